"""Judging the real-world corpus: record each behaviour's task from its reference
implementation (as `judge tasks record` does, oracle check included), make its
descriptions-only copy (no target hints, no bbox, no timestamps: as IWR-Bench gives
tasks), and judge every implementation and every mutant with the offline judge.

The expected result of every judgment comes from `truth.py` (judge-free), never from
the judge: an implementation's expected IFS is 1.0 only if truth.py passes every step,
a mutant's is `first_fail / n` only if truth.py confirms `first_fail`.

    python tests/corpus/harness.py [BEHAVIOUR ...] [--mutants] [--json FILE]

prints one line per judgment (mode, implementation or mutant, IFS got / expected,
false-positive steps, seconds per action) and the totals.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import truth as T  # noqa: E402

FPS = 10           # the recording's frame rate: enough for the visual rung, cheap to record


def without_hints(task):
    """The task as IWR-Bench gives it: descriptions only (no hints, no bbox, no timestamps)."""
    from judge.tasks import descriptions_only

    return descriptions_only(task)


async def record(browser, b: T.Behaviour, out: Path, oracle: bool = True):
    """The behaviour's task recorded on its reference implementation; raises if the
    reference does not pass the judge's own oracle check (IFS 1.0), as `judge tasks record`."""
    from judge.record import record_interactive
    from judge.score import ScoreConfig, score_page
    from judge.tasks import Action, Viewport, load_task

    page = out / "src" / "reference.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(b.html(b.reference), encoding="utf-8")
    w, h = b.viewport
    await record_interactive(browser, page, [Action.model_validate(a) for a in b.actions], out / "task",
                             task_id=f"corpus-{b.name}", viewport=Viewport(width=w, height=h), fps=FPS)
    task = load_task(out / "task")
    if not oracle:
        return task
    row = await score_page(task, page.read_bytes(), browser=browser, config=ScoreConfig(embedder="classic"))
    if row["ifs"] < 1.0:
        bad = [f"step {s['index']}: {s.get('error') or s['verdict_reason']}" for s in row["steps"] if not s["passed"]]
        raise AssertionError(f"{b.name}: the reference scores ifs={row['ifs']:.3f} under the judge: {bad[:3]}")
    return task


@dataclass
class Judgment:
    behaviour: str
    mode: str              # hinted | descr-only
    impl: str
    mutant: str | None
    expected_first_fail: int | None    # None: every step should pass
    result: dict
    wall_s: float

    @property
    def n(self) -> int:
        return len(self.result["steps"])

    @property
    def expected_ifs(self) -> float:
        return 1.0 if self.expected_first_fail is None else self.expected_first_fail / self.n

    @property
    def false_positives(self) -> list[int]:
        """Steps judged passed although truth says the step failed: the mutant's first
        failing step (later steps run on an already wrong state and prove nothing)."""
        k = self.expected_first_fail
        return [k] if k is not None and self.result["steps"][k]["passed"] else []

    @property
    def exact(self) -> bool:
        return abs(self.result["ifs"] - self.expected_ifs) < 1e-9

    def line(self) -> str:
        r = self.result
        who = f"{self.impl}" + (f" mutant {self.mutant}" if self.mutant else "")
        bad = [s for s in r["steps"] if not s["passed"]]
        note = "" if self.exact else f"  first failing step {bad[0]['index'] if bad else '-'}: " \
            f"{(bad[0].get('error') or bad[0]['verdict_reason'])[:110] if bad else ''}"
        fp = f"  FALSE POSITIVE at step {self.false_positives[0]}" if self.false_positives else ""
        return (f"{'ok  ' if self.exact and not fp else 'MISS'} {self.behaviour:<16} {self.mode:<10} {who:<44} "
                f"ifs {r['ifs']:.3f} expected {self.expected_ifs:.3f}{fp}{note}")


async def judge(browser, b: T.Behaviour, task, mode: str, impl: str, mutant: dict | None = None) -> Judgment:
    from agents.judge_graph import judge_page
    from judge.score import ScoreConfig

    t = without_hints(task) if mode == "descr-only" else task
    t0 = time.perf_counter()
    r = await judge_page(t, b.html(impl, mutant).encode(), browser=browser, config=ScoreConfig(embedder="classic"))
    return Judgment(b.name, mode, impl, mutant["id"] if mutant else None, mutant["first_fail"] if mutant else None,
                    r, time.perf_counter() - t0)


async def confirm_truth(todo: list[T.Behaviour], mutants: bool, concurrency: int = 4) -> dict:
    """truth.py's first failing step for every implementation (None) and mutant, keyed
    (behaviour, implementation or mutant id); run here, so expectations are never stale.
    Truth runs in real time, several pages at once: a result that disagrees with the
    declared one is driven a second time on its own before it counts."""
    from playwright.async_api import async_playwright

    sem, solo = asyncio.Semaphore(concurrency), asyncio.Semaphore(1)
    async with async_playwright() as pw:
        browser = await T.open_browser(pw)

        async def one(b, impl, m):
            want = m["first_fail"] if m else None
            for attempt in range(2):    # real time under load: a disagreement is driven once more, alone
                async with (sem if attempt == 0 else solo):
                    got = T.first_fail(await T.run(browser, b, impl, m, stop=True))
                if got == want:
                    break
            return (b.name, m["id"] if m else impl), got
        jobs = [one(b, i, None) for b in todo for i in b.implementations]
        jobs += [one(b, m["impl"], m) for b in todo for m in (b.mutants if mutants else [])]
        found = dict(await asyncio.gather(*jobs))
        await browser.close()
    return found


async def run_all(names: list[str], mutants: bool, modes=("hinted", "descr-only"), tmp: Path | None = None,
                  out=print) -> list[Judgment]:
    """Judge every implementation (and mutant) of the named behaviours (all when empty);
    truth.py runs first and must agree with mutants.json (a disagreement is reported and
    the truth wins)."""
    import tempfile

    from judge.browser.runtime import Browser

    tmp = tmp or Path(tempfile.mkdtemp(prefix="webjudge-corpus-"))
    todo = [b for b in T.behaviours(HERE) if not names or b.name in names]
    truth = await confirm_truth(todo, mutants)
    for b in todo:
        for impl in b.implementations:
            if truth[(b.name, impl)] is not None:
                out(f"TRUTH {b.name}/{impl}: the correct implementation fails its own ground truth at step "
                    f"{truth[(b.name, impl)]}")
        for m in b.mutants if mutants else []:
            if truth[(b.name, m["id"])] != m["first_fail"]:
                out(f"TRUTH {b.name} mutant {m['id']}: truth first fails at {truth[(b.name, m['id'])]}, "
                    f"mutants.json says {m['first_fail']}; the truth is used")
                m["first_fail"] = truth[(b.name, m["id"])]
    results = []
    async with Browser() as browser:
        for b in todo:
            try:
                task = await record(browser, b, tmp / b.name)
            except Exception as e:     # reported, and the other behaviours still run
                out(f"MISS {b.name:<16} the reference does not record: {str(e)[:200]}")
                results.append(Judgment(b.name, "record", b.reference, None, None,
                                        {"ifs": 0.0, "steps": [{"passed": False}] * len(b.actions)}, 0.0))
                continue
            for mode in modes:
                for impl in b.implementations:
                    j = await judge(browser, b, task, mode, impl)
                    results.append(j)
                    out(j.line())
                for m in b.mutants if mutants else []:
                    j = await judge(browser, b, task, mode, m["impl"], m)
                    results.append(j)
                    out(j.line())
    return results


def totals(results: list[Judgment]) -> dict:
    correct = [j for j in results if j.mutant is None]
    muts = [j for j in results if j.mutant is not None]
    steps = sum(j.n for j in results)
    return {"judgments": len(results), "correct_implementations": len(correct),
            "correct_full_ifs": sum(j.exact for j in correct),
            "mutant_judgments": len(muts), "mutants_exact": sum(j.exact for j in muts),
            "false_positive_steps": sum(len(j.false_positives) for j in muts),
            "seconds_per_action": round(sum(j.wall_s for j in results) / max(1, steps), 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("behaviour", nargs="*")
    ap.add_argument("--mutants", action="store_true", help="judge the mutants too")
    ap.add_argument("--mode", choices=["hinted", "descr-only"], action="append")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    res = asyncio.run(run_all(args.behaviour, args.mutants, tuple(args.mode or ("hinted", "descr-only"))))
    tot = totals(res)
    print(json.dumps(tot))
    if args.json:
        args.json.write_text(json.dumps({"totals": tot, "judgments": [
            {"behaviour": j.behaviour, "mode": j.mode, "impl": j.impl, "mutant": j.mutant, "ifs": j.result["ifs"],
             "expected": j.expected_ifs, "false_positives": j.false_positives, "wall_s": round(j.wall_s, 3),
             "steps": j.result["steps"]} for j in res]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
