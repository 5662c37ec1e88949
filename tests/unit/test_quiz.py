"""explore.quiz: the key is the one option the notebook computed true, or nothing is made."""

import pytest

from cnnlib import explore


def test_the_answer_is_the_one_true_option():
    q = explore.quiz("2 + 2?", [("3", 2 + 2 == 3, "no"), ("4", 2 + 2 == 4, "yes")])
    assert q.answer == 1
    assert 'data-answer="1"' in q.html and q.options == ("3", "4")


@pytest.mark.parametrize("truths", [(False, False), (True, True)])
def test_a_key_with_no_or_two_true_options_is_refused(truths):
    with pytest.raises(ValueError, match="exactly one option must be true"):
        explore.quiz("?", [("a", truths[0], "x"), ("b", truths[1], "y")])


def test_options_must_be_text_truth_reason_triples():
    with pytest.raises(ValueError, match=r"options\[1\]"):
        explore.quiz("?", [("a", True, "x"), ("b", False)])
    with pytest.raises(ValueError, match="at least 2"):
        explore.quiz("?", [("a", True, "x")])


def test_the_html_escapes_text_and_has_a_stable_id():
    q1 = explore.quiz("<b>?</b>", [("x < y", True, "a & b"), ("y", False, "c")])
    q2 = explore.quiz("<b>?</b>", [("x < y", True, "a & b"), ("y", False, "c")])
    assert "&lt;b&gt;" in q1.html and "x &lt; y" in q1.html and "a &amp; b" in q1.html
    assert q1.html == q2.html  # stored outputs do not change from run to run
