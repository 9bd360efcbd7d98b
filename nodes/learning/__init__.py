"""What the learning loop's nodes (nodes/create.py, nodes/learn.py, nodes/revise.py) are made of.

- ``reply``: the learner's reply as code, and its errors in one line;
- ``functions``, ``renames``: a reply's functions one at a time (split, dropped, renamed);
- ``smoke``: smoke-running learned code in the sandbox (the demonstration's calls; the creation trials aid's, nodes/assist/);
- ``repair``: one check of the code, and the repair loop around it;
- ``checks``: a candidate checked against its task with the learner repairing it (the above, wired to the Context);
- ``revision``: the failed learned calls, the target, and the learner's revision answers;
- ``scoring``: a candidate's scores over its rollouts, and the choice of the best;
- ``journal``: finished rollouts written ahead of the checkpoint;
- ``files``: ``candidates/`` and ``library/`` in the run folder.
"""
