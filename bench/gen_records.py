#!/usr/bin/env python3
"""Synthetic RL rollouts for `make bench` (python3 standard library only).

Writes N records (default 100000) as JSONL, one rollout per line:

  {"id", "group", "task", "prompt", "response", "reference", "response_length"}

- 8 rollouts per prompt share `group`, `task`, `prompt` and `reference`;
  `task` is "math" or "mcq", about half each.
- Responses are 2-4 KB: <think> reasoning over several lines (so the JSON
  holds \\n escapes), LaTeX fragments, then <answer>...</answer>.
  About 10% hold non-ASCII text (≤, é, CJK...), 10% break the R1 format
  (missing </think>, text before <think> or after </answer>, duplicated
  tags), 10% give a wrong answer, 3% give no answer at all (truncated).
- Math answers look like "72", "3/4", "\\frac{3}{4}", "\\sqrt{2}"; MCQ
  answers like "(B)", "B", "The answer is C", "B) <option text>".

Deterministic: the same --seed and -n give the same bytes.

  python3 bench/gen_records.py -n 100000 -o bench/out/records.jsonl
"""
import argparse
import json
import random
import sys

LETTERS = "ABCDE"

# ------------------------------------------------------------- reasoning

OPENERS = [
    "Let me work through this carefully.",
    "Okay, let's start by restating the problem.",
    "First, I need to understand what is being asked.",
    "Let me think about this step by step.",
    "Hmm, let me set up the problem.",
]

ASCII_TEMPLATES = [
    "We have $x + {a} = {b}$, so subtracting {a} from both sides gives $x = {c}$.",
    "Multiply both sides by {a}: ${a}x = {p}$. Then divide by {a} to get back $x = {b}$.",
    "The sum of the first {a} positive integers is $\\frac{{{a}({a}+1)}}{{2}} = {t}$.",
    "Check: ${a} \\times {b} = {p}$, which matches what we computed before.",
    "Wait, that doesn't look right. Let me recompute: ${a} + {b} = {s}$, not {w}.",
    "So the fraction simplifies to $\\frac{{{a}}}{{{b}}}$ after dividing numerator and denominator by their gcd.",
    "Using the quadratic formula, $x = \\frac{{-b \\pm \\sqrt{{b^2 - 4ac}}}}{{2a}}$ with $a = 1$, $b = {a}$, $c = {b}$.",
    "The discriminant is ${a}^2 - 4 \\cdot {b} = {d}$.",
    "If the rate is {a} units per hour, then in {b} hours we get ${a} \\cdot {b} = {p}$ units.",
    "Let me double-check the arithmetic: {a} * {b} = {p}, and {p} + {a} = {q}.",
    "Since $\\sqrt{{{sq}}} = {a}$, the side length is {a}.",
    "The probability is $\\frac{{{a}}}{{{s}}}$ because there are {a} favourable outcomes out of {s}.",
    "Consider the inequality ${a}x - {b} > 0$, which holds for $x > \\frac{{{b}}}{{{a}}}$.",
    "Expanding $(x + {a})^2 = x^2 + {a2}x + {sq}$.",
    "By the Pythagorean theorem, $c^2 = {a}^2 + {b}^2 = {pyth}$.",
    "The area of the triangle is $\\frac{{1}}{{2}} \\cdot {a} \\cdot {b} = {half}$.",
    "So there are {a} ways to choose the first item and {b} ways for the second, {p} in total.",
    "Let $n = {a}$. Then $n(n-1) = {nn}$.",
    "Alternatively, we can use modular arithmetic: ${p} \\equiv {m} \\pmod{{{b}}}$.",
    "Actually, I should be careful here about the boundary case when $x = 0$.",
    "Now I substitute back into the original equation to verify.",
    "That gives us the same result, so I'm fairly confident.",
    "Let me reconsider whether the problem wants the exact value or an approximation.",
    "\\begin{{aligned}} y &= {a}x + {b} \\\\ y &= {c}x - {d2} \\end{{aligned}}",
]

MCQ_TEMPLATES = [
    "Option ({L}) says the value is {a}, which contradicts the calculation above.",
    "Let me eliminate the options one by one. ({L}) can't be right because {a} > {b}.",
    "Option ({L}) looks plausible, but let me check it against the given condition.",
    "Comparing ({L}) and ({M}): the first one ignores the constraint, the second one doesn't.",
    "The question asks which statement is true, so I need to verify each option.",
    "Hmm, ({L}) is a common distractor: it confuses the mean with the median.",
    "If we plug in x = {a}, option ({L}) gives {p}, while option ({M}) gives {s}.",
    "This reminds me of the definition: a function is increasing if f(a) < f(b) whenever a < b.",
    "So far ({L}) is the only option consistent with both facts.",
    "Let me re-read the question to make sure I didn't miss a negation.",
]

# Non-ASCII fragments: math symbols, accented Latin, CJK (models mix these).
NON_ASCII = [
    "Since x ≤ {a} and y ≥ {b}, the product satisfies xy ≤ {p}.",
    "Le résultat est {a}, donc la réponse finale est cohérente.",
    "Für alle x ∈ ℝ gilt x² ≥ 0, also ist die Funktion nicht negativ.",
    "因此，我们得到 x = {a}。让我再检查一下计算过程。",
    "计算：{a} × {b} = {p}，所以答案应该是正确的。",
    "The angle is {a}° and the ratio is {b}∶{c}, i.e. ≈ {d}.",
    "Naïve approach: try every café order… that gives {p} combinations.",
    "つまり、答えは {a} です。もう一度確認します。",
    "We get α + β = {a} and αβ = {b}, so α² + β² = {q}.",
    "Σ_{{k=1}}^{{{a}}} k = {t} — this is the triangular number T_{a}.",
]


def fill(rng, tpl):
    a = rng.randint(2, 99)
    b = rng.randint(2, 99)
    c = rng.randint(1, 50)
    return tpl.format(
        a=a, b=b, c=c, p=a * b, s=a + b, w=a + b + 1, t=a * (a + 1) // 2,
        d=a * a - 4 * b, sq=a * a, a2=2 * a, pyth=a * a + b * b,
        half=a * b / 2, nn=a * (a - 1), m=(a * b) % b, q=a * b + a,
        d2=rng.randint(1, 9), L=rng.choice(LETTERS), M=rng.choice(LETTERS))


def make_pool(rng, templates, count, per_para):
    pool = []
    for _ in range(count):
        k = rng.randint(per_para[0], per_para[1])
        pool.append(" ".join(fill(rng, rng.choice(templates)) for _ in range(k)))
    return pool


# -------------------------------------------------------------- problems

def math_problem(rng):
    kind = rng.random()
    a, b = rng.randint(1, 20), rng.randint(2, 20)
    if kind < 0.5:
        ref = str(rng.randint(0, 999))
        q = (f"A store sells {rng.randint(3, 30)} boxes of pencils each day. "
             f"Each box holds {rng.randint(6, 24)} pencils. After accounting for "
             f"returns, how many pencils are left at the end of the week? "
             f"Give the number only.")
    elif kind < 0.7:
        ref = f"{a}/{b}"
        q = (f"A bag holds {b} marbles, {a} of them red. A marble is drawn at "
             f"random. What is the probability that it is red? Write it as a/b.")
    elif kind < 0.9:
        ref = f"\\frac{{{a}}}{{{b}}}"
        q = (f"Simplify $\\frac{{{a * 3}}}{{{b * 3}}}$ and give the answer in "
             f"LaTeX.")
    else:
        n = rng.choice([2, 3, 5, 6, 7, 10, 11])
        ref = f"\\sqrt{{{n}}}"
        q = (f"A square has area {n}. What is the length of its side? Give the "
             f"exact value.")
    prompt = ("Solve the following problem. Think step by step inside "
              "<think></think>, then give the final answer inside "
              "<answer></answer>.\n\n" + q)
    return prompt, ref


def wrong_math(rng, ref):
    if ref.isdigit():
        return str(int(ref) + rng.choice([-10, -1, 1, 2, 12]))
    if "/" in ref and not ref.startswith("\\"):
        x, y = ref.split("/")
        return f"{y}/{x}" if x != y else f"{x}/{int(y) + 1}"
    if ref.startswith("\\frac"):
        return ref.replace("\\frac", "\\dfrac")[:-2] + "1}"
    return ref.replace("\\sqrt", "")  # side = area, a classic slip


def right_math(rng, ref):
    """Surface variants of a correct answer, as models write them."""
    r = rng.random()
    if r < 0.55:
        return ref
    if r < 0.70:
        return f"${ref}$"
    if r < 0.80:
        return f" {ref} "
    if r < 0.88:
        return f"{ref}."
    if r < 0.94:
        return f"\\text{{{ref}}}" if ref.isdigit() else f"${ref}$"
    if r < 0.97:
        # Full-width digits / operators (CJK-context outputs): NFKC-equal.
        return ref.translate(str.maketrans("0123456789/", "０１２３４５６７８９／"))
    return f"The answer is {ref}"


def mcq_problem(rng):
    nopt = rng.choice([4, 4, 4, 5])
    letters = LETTERS[:nopt]
    ref = rng.choice(letters)
    a = rng.randint(2, 40)
    opts = [f"{a * (i + 1)} meters" for i in range(nopt)]
    rng.shuffle(opts)
    q = (f"A train travels at a constant speed for {a} seconds. Which of the "
         f"following is the distance covered if the speed is {rng.randint(1, 9)} "
         f"m/s?\n" + "\n".join(f"({L}) {o}" for L, o in zip(letters, opts)))
    prompt = ("Answer the multiple-choice question. Think step by step inside "
              "<think></think>, then give the letter of the correct option "
              "inside <answer></answer>.\n\n" + q)
    return prompt, ref, letters


def right_mcq(rng, ref):
    r = rng.random()
    if r < 0.35:
        return f"({ref})"
    if r < 0.65:
        return ref
    if r < 0.80:
        return f"The answer is {ref}"
    if r < 0.90:
        return f"{ref}) {rng.randint(2, 400)} meters"
    if r < 0.97:
        return f"**{ref}**"
    return f"（{ref}）"  # full-width parentheses


def wrong_mcq(rng, ref, letters):
    other = rng.choice([L for L in letters if L != ref])
    return rng.choice([f"({other})", other, f"The answer is {other}"])


# ------------------------------------------------------------- responses

def reasoning(rng, pool, nonascii, target):
    parts = [rng.choice(OPENERS)]
    size = len(parts[0])
    if nonascii:
        k = rng.randint(1, 3)
        for _ in range(k):
            frag = fill(rng, rng.choice(NON_ASCII))
            parts.append(frag)
            size += len(frag.encode("utf-8")) + 2
    while size < target:
        p = rng.choice(pool)
        parts.append(p)
        size += len(p) + 2
    if nonascii:
        # keep the non-ASCII fragments inside, not all at the top
        head, rest = parts[:1], parts[1:]
        rng.shuffle(rest)
        parts = head + rest
    text = "\n\n".join(parts)
    b = text.encode("utf-8")
    if len(b) > target:
        text = b[:target].decode("utf-8", "ignore")
        cut = text.rfind(" ")
        if cut > target // 2:
            text = text[:cut]
    return text


def response_for(rng, pool, kind, answer, target, nonascii):
    """kind: ok | broken | none."""
    think_len = max(256, target - len(answer.encode("utf-8")) - 40)
    th = reasoning(rng, pool, nonascii, think_len)
    if kind == "none":
        # Truncated by the generation limit: no </think>, no answer.
        return "<think>\n" + th
    if kind == "ok":
        sep = rng.choice(["\n", "\n\n", " ", ""])
        return f"<think>\n{th}\n</think>{sep}<answer>{answer}</answer>"
    b = rng.randrange(5)
    if b == 0:  # missing </think>
        return f"<think>\n{th}\n<answer>{answer}</answer>"
    if b == 1:  # chatter after the answer
        return f"<think>\n{th}\n</think>\n<answer>{answer}</answer>\nI hope this helps!"
    if b == 2:  # preamble before <think>
        return f"Sure! Let me solve it.\n<think>\n{th}\n</think>\n<answer>{answer}</answer>"
    if b == 3:  # duplicated answer tags (last one counts)
        return (f"<think>\n{th}\n</think>\n<answer>draft</answer>\n"
                f"<answer>{answer}</answer>")
    # duplicated think blocks
    half = len(th) // 2
    return (f"<think>\n{th[:half]}\n</think>\n<think>\n{th[half:]}\n</think>\n"
            f"<answer>{answer}</answer>")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=100000, help="records (default 100000)")
    ap.add_argument("-o", "--output", default="-", help="output file (default stdout)")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--ensure-ascii", action="store_true",
                    help="escape non-ASCII as \\uXXXX (json.dumps default) "
                         "instead of writing raw UTF-8")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    math_pool = make_pool(rng, ASCII_TEMPLATES, 3000, (1, 4))
    mcq_pool = make_pool(rng, ASCII_TEMPLATES[:6] + MCQ_TEMPLATES * 2, 3000, (1, 4))
    # Paragraphs with newlines inside, as in real chains of thought.
    math_pool = [p.replace(". ", ".\n", 1) if i % 3 == 0 else p
                 for i, p in enumerate(math_pool)]

    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
    dumps = json.JSONEncoder(ensure_ascii=args.ensure_ascii,
                             separators=(", ", ": ")).encode
    group = None
    for i in range(args.n):
        if i % 8 == 0:
            gid = i // 8
            if rng.random() < 0.5:
                prompt, ref = math_problem(rng)
                group = ("math", prompt, ref, None)
            else:
                prompt, ref, letters = mcq_problem(rng)
                group = ("mcq", prompt, ref, letters)
        task, prompt, ref, letters = group
        r = rng.random()
        kind = "none" if r < 0.03 else "broken" if r < 0.13 else "ok"
        wrong = 0.13 <= r < 0.23
        if task == "math":
            ans = wrong_math(rng, ref) if wrong else right_math(rng, ref)
            pool = math_pool
        else:
            ans = wrong_mcq(rng, ref, letters) if wrong else right_mcq(rng, ref)
            pool = mcq_pool
        target = rng.randint(2048, 4096)
        nonascii = rng.random() < 0.10
        resp = response_for(rng, pool, kind, ans, target, nonascii)
        nbytes = len(resp.encode("utf-8"))
        rec = {
            "id": i,
            "group": f"{task}-{gid:06d}",
            "task": task,
            "prompt": prompt,
            "response": resp,
            "reference": ref,
            "response_length": nbytes // 4 + rng.randint(0, 8),
        }
        out.write(dumps(rec))
        out.write("\n")
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
