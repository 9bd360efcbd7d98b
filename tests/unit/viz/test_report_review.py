"""The report marks each library version as written by the learner or by a person, and lists a person's review with
the reviewer's reasons (learnact/viz/report_library.py), from a learning run reviewed with an edit and a rejection."""

from __future__ import annotations

import re

from test_review import BAD_CALL, SWAPPED, Run, agent, learner

from learnact.viz.report import write_report

REASON = "Two copies of one action: keep the edited one."


def test_the_report_says_who_wrote_each_version_and_why_the_reviewer_answered(tmp_path):
    def answer(request):
        return [
            {
                "candidate_id": "r0s0",
                "name": "carry",
                "decision": "edit",
                "code": SWAPPED,
                "reason": "rooms as the agent gives them",
            },
            {"candidate_id": "r0s1", "name": "carry", "decision": "reject", "reason": REASON},
        ]

    run = Run(tmp_path, learner(), agent(BAD_CALL), candidates=2)
    run.until_done(answer)
    html = write_report(run.run_dir, graph_html="").read_text()
    library = html.split('<section id="library">', 1)[1].split("</section>", 1)[0]
    assert '<b>carry v2</b> <span class="tag best">written by a person</span>' in library
    timeline = re.search(r"<table>.*?</table>", library, re.DOTALL).group(0)
    assert (
        "<th>written by</th>" in timeline
        and "a person" in timeline
        and "edited by a person: rooms as the agent gives them" in timeline
    )
    review = library.split('<h3 id="review">', 1)[1]
    assert "r0s0" in review and "edited" in review and "rooms as the agent gives them" in review
    assert "r0s1" in review and "rejected" in review and REASON in review


def test_a_run_without_review_has_no_review_and_its_versions_are_the_learners(tmp_path):
    run = Run(tmp_path, learner(), agent(BAD_CALL), review=False, max_rounds=1)
    run.until_done(lambda request: [])
    library = (
        write_report(run.run_dir, graph_html="")
        .read_text()
        .split('<section id="library">', 1)[1]
        .split("</section>", 1)[0]
    )
    assert 'id="review"' not in library and "written by a person" not in library
    assert "<td>the learner</td>" in library
