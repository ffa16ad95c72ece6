"""The two assertions every checker test uses: a right answer passes, a wrong one gets a specific hint."""


def ok(fb):
    assert fb.passed, fb.message


def hints(fb, *words):
    assert not fb.passed, "a wrong answer passed"
    for w in words:
        assert w.lower() in fb.message.lower(), f"hint {fb.message!r} should mention {w!r}"
