"""Choose the offline model's grounded-answer threshold and margin on the dev half of the grounded set.

    python benchmarks/tune_grounding.py

The offline model answers from documents by quoting the best-scoring sentence (embedding
cosine + word overlap + answer-type bonus, ``aie.offline.grounding.rank``), plus a close
second one, and says it does not know when the best score is below a threshold. A higher
threshold declines more unanswerable questions and also more answerable ones; this script
prints that trade-off on the dev questions so the constants in ``aie/offline/grounding.py``
are chosen from it. The held-out half is never read here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from aie.offline import grounding as G  # noqa: E402

SET = Path(__file__).parent / "evalsets" / "grounded.json"


def main() -> None:
    data = json.loads(SET.read_text())
    ranked = []
    for item in data["dev"]:
        docs = [G.Doc(d, data["documents"][d]) for d in item["docs"]]
        ranked.append((item, docs, G.rank(item["question"], docs)))
    answerable = sum(item["gold"] is not None for item, _, _ in ranked)
    print(f"{len(ranked)} dev questions ({answerable} answerable)")
    print(f"{'threshold':>9} {'margin':>6}  {'answered':>14}  {'declined':>14}  {'sentences/answer':>16}")
    for threshold in (0.45, 0.5, 0.55, 0.6, 0.65):
        for margin in (0.06, 0.15, 0.25):
            ok = declined = quoted = answered = 0
            for item, docs, r in ranked:
                answers = bool(r) and r[0][0] >= threshold
                if item["gold"] is None:
                    declined += not answers
                    continue
                if not answers:
                    continue
                lead = r[0]
                close = [x for x in r[1:] if x[0] >= max(threshold, lead[0] - (margin if x[1] == lead[1] else G.CROSS_MARGIN))]
                picked = [lead] + close[:1]
                quoted += len(picked)
                answered += 1
                ok += any(docs[i].id == item["gold"] and any(p.lower() in s.lower() for p in item["answer_contains"])
                          for _, i, s in picked)
            n_un = len(ranked) - answerable
            print(f"{threshold:9.2f} {margin:6.2f}  {ok / answerable:6.1%} ({ok:2d}/{answerable})  "
                  f"{declined / n_un:6.1%} ({declined:2d}/{n_un})  {quoted / max(1, answered):16.2f}")
    print(f"\nin use: THRESHOLD = {G.THRESHOLD}, MARGIN = {G.MARGIN}, CROSS_MARGIN = {G.CROSS_MARGIN}")


if __name__ == "__main__":
    main()
