"""Log redaction: the bot token never reaches a log record, as written or percent-encoded (PTB
encodes file download URLs, so the token's ":" appears as "%3A" there)."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest

from bot.app.logs import REDACTED, install_redaction

TOKEN = "424242:AAsecretForTheRedactionTest_0123456789"


@pytest.mark.parametrize(
    "url",
    [
        f"https://api.telegram.org/bot{TOKEN}/getFile",
        f"https://api.telegram.org/file/bot{quote(TOKEN)}/voice/file_1.oga",
        f"https://api.telegram.org/file/bot{quote(TOKEN, safe='')}/voice/file_1.oga",
    ],
)
def test_the_token_is_redacted_however_the_url_spells_it(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    install_redaction(TOKEN)
    caplog.set_level(logging.INFO)
    logging.getLogger("test.redaction").info("HTTP Request: GET %s", url)
    [record] = caplog.records
    assert TOKEN.split(":")[1] not in record.getMessage()
    assert f"bot{REDACTED}/" in record.getMessage()
