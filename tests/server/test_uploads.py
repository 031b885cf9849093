"""The upload totals: at most N photos and M MB read at once per session; the rest refused by name, never decoded."""

from __future__ import annotations

import pytest

from core.server.uploads import MB, UploadLimits, accept_uploads


def test_the_defaults_and_the_environment(monkeypatch):
    monkeypatch.delenv("QTL_UPLOAD_MAX_FILES", raising=False)
    monkeypatch.delenv("QTL_UPLOAD_MAX_MB", raising=False)
    assert UploadLimits.from_env() == UploadLimits(10, 50)
    assert UploadLimits().describe() == "at most 10 photos and 50 MB in all at once"
    monkeypatch.setenv("QTL_UPLOAD_MAX_FILES", "3")
    monkeypatch.setenv("QTL_UPLOAD_MAX_MB", "20")
    assert UploadLimits.from_env() == UploadLimits(3, 20)
    for bad in ("0", "-2", "ten", "1.5"):
        monkeypatch.setenv("QTL_UPLOAD_MAX_MB", bad)
        with pytest.raises(ValueError, match=f"QTL_UPLOAD_MAX_MB='{bad}': expected a whole number of at least 1"):
            UploadLimits.from_env()
    with pytest.raises(ValueError, match="at least 1 file and 1 MB"):
        UploadLimits(0, 5)


def test_within_both_limits_everything_is_read():
    decision = accept_uploads([(f"p{i}.jpg", 5 * MB) for i in range(10)], UploadLimits(10, 50))
    assert decision.accepted == 10 and decision.message is None
    assert accept_uploads([], UploadLimits()).accepted == 0


def test_files_beyond_the_count_are_refused_by_name():
    files = [(f"p{i}.jpg", 1000) for i in range(14)]
    decision = accept_uploads(files, UploadLimits(10, 50))
    assert decision.accepted == 10
    assert decision.message == ("4 of 14 photos not read: at most 10 photos are read at once (QTL_UPLOAD_MAX_FILES). "
                                "Not read: p10.jpg, p11.jpg, p12.jpg, p13.jpg. Remove some photos to add others.")


def test_files_beyond_the_bytes_are_refused_from_the_first_that_does_not_fit():
    files = [("a.jpg", 20 * MB), ("b.jpg", 20 * MB), ("c.jpg", 10 * MB + 1), ("d.jpg", 1)]
    decision = accept_uploads(files, UploadLimits(10, 50))
    assert decision.accepted == 2, "the photos read are the first ones, in upload order"
    assert "2 of 4 photos not read: at most 50 MB of photos are read at once (QTL_UPLOAD_MAX_MB)" in decision.message
    assert "Not read: c.jpg, d.jpg." in decision.message
    many = accept_uploads([(f"p{i}.jpg", 60 * MB) for i in range(9)], UploadLimits(10, 50))
    assert many.accepted == 0 and "Not read: p0.jpg, p1.jpg, p2.jpg, p3.jpg, p4.jpg and 4 more." in many.message
