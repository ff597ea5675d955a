"""A programme file sent to the Telegram bot with the caption /programme_add (issue 16), through the fake
Bot API: the YAML is not a document kind, so it is kept only as a programme; its errors come back."""

from __future__ import annotations

from tests.fakes.telegram_api import FakeUser
from tests.test_programmes import BROKEN, PROGRAMME
from tests.test_telegram import ADMIN_ID, Harness, tg  # noqa: F401  (tg: the harness fixture)


async def test_a_programme_file_with_the_caption(tg: Harness) -> None:  # noqa: F811
    admin: FakeUser = tg.fake.user(ADMIN_ID, "Admin", "vi")
    await admin.send_document(BROKEN.encode(), "qt.yaml", "application/x-yaml", caption="/programme_add")
    shown = await admin.wait_for("chưa hợp lệ", timeout=15)
    assert "line 27: item 'qt26-dx' field rate_percent" in shown["text"]
    await admin.send_document(PROGRAMME.encode(), "qt.yaml", "application/x-yaml", caption="/programme_add")
    assert "phiên bản 1" in (await admin.wait_for("Đã lưu bản nháp", timeout=15))["text"]
    # without the caption a YAML file is not an attachment kind: refused like any other
    await admin.send_document(PROGRAMME.encode(), "qt.yaml", "application/x-yaml")
    await admin.wait_for("Không nhận tệp", timeout=15)
