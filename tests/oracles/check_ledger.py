#!/usr/bin/env python3
"""Check a Veil ledger with OpenSSH alone: python3 check_ledger.py ledger.jsonl TRUST
TRUST is your own copy of the administrator's public key (admin.pub), or of the
allowed_signers that `veil admin export` writes. Exit 0: every line checks; 1: not; 2: unusable input."""
import hashlib, json, re, subprocess, sys, tempfile

NS, ADMIN = "veil-ledger@v1", "veil-administrator"
KINDS = "header approve countersign reject recovered checkpoint admin enrol revoke policy withdraw".split()
say = lambda s: print(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", "?", s))  # never raw control bytes
canon = lambda o: json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
try:
    data, trust = open(sys.argv[1], "rb").read(), open(sys.argv[2], encoding="utf-8").read()
except (IndexError, OSError, UnicodeDecodeError) as e:
    say(f"usage: check_ledger.py ledger.jsonl TRUST ({e})"); sys.exit(2)
key_of = lambda words: next((" ".join(words[i:i + 2]) for i, w in enumerate(words) if w.startswith("ssh-")), None)
rows = [l.split() for l in trust.splitlines() if l.strip() and not l.startswith("#")]
admin = key_of(rows[0]) if rows and rows[0][0].startswith("ssh-") else \
    next((key_of(r) for r in rows if r[0] == ADMIN), None)
legacy = {r[0]: " ".join(r[1:]) for r in rows if r[0] != ADMIN and not r[0].startswith("ssh-")}
signers = dict(legacy)  # principal -> 'options key': who may sign now

def parse(raw):
    try:
        e = json.loads(raw.decode("utf-8")) if len(raw) < 1 << 24 else None
        return e if isinstance(e, dict) and canon(e) == raw else None
    except ValueError:
        return None

lines, pos = [], 0
for raw in data.split(b"\n")[:-1]:  # a final piece without a newline is never an entry
    lines.append((pos, raw, parse(raw))); pos += len(raw) + 1
claimed = set()  # a claim covers exactly the bytes right before its own line
for start, raw, e in lines:
    d = e.get("discarded") if e else None
    if isinstance(d, dict) and d.get("offset", -1) + d.get("length", 0) + 1 == start \
            and hashlib.sha256(data[d["offset"]:start - 1]).hexdigest() == d.get("sha256"):
        claimed |= {s for s, _, _ in lines if d["offset"] <= s < start}

def check_sig(e, principal):
    opts = "".join(f"{p} {v}\n" for p, v in signers.items())
    if admin: opts += f'{ADMIN} namespaces="{NS}" {admin}\n'
    when = re.sub(r"[^0-9]", "", str(e.get("ts", "")))[:14] + "Z"
    body = dict(e); sig = body.pop("sig", "")
    with tempfile.NamedTemporaryFile("w", suffix=".sig") as f, tempfile.NamedTemporaryFile("w") as a:
        f.write(f"-----BEGIN SSH SIGNATURE-----\n{sig}\n-----END SSH SIGNATURE-----\n"); f.flush()
        a.write(opts); a.flush()
        run = lambda *x, **k: subprocess.run(["ssh-keygen", "-Y", *x, "-f", a.name, "-s", f.name,
                                              f"-Overify-time={when}"], capture_output=True, **k)
        who = run("find-principals").stdout.decode(errors="replace").split()
        if principal not in who: return f"not signed by a key {principal} may sign with at {when}"
        if run("verify", "-I", principal, "-n", NS, input=canon(body)).returncode: return "signature does not verify"

prev, seq, ok, root = "0" * 64, 0, True, False
live, withdrawn = {}, []  # seq of a release -> (item, output name, sha); names taken back
for n, (start, raw, e) in enumerate(lines, 1):
    if start in claimed:
        ok = ok and e is None  # debris is a torn tail, never a whole entry
        say(f"line {n}: debris of an interrupted write" + ("" if e is None else ": CLAIMS A WHOLE ENTRY")); continue
    if e is None:
        say(f"line {n}: NOT AN ENTRY (not canonical JSON)"); ok = False; continue
    kind, who = e.get("kind"), e.get("reviewer") or {}
    admin_kind = kind in ("admin", "enrol", "revoke", "policy")
    root = root or kind == "admin"
    by_admin = key_of(str(who.get("key", "")).split()) == admin
    principal = ADMIN if by_admin else next((p for p, v in signers.items()
                                              if key_of(v.split()) == key_of(str(who.get("key", "")).split())), "?")
    problems = [] if e.get("seq") == seq else [f"seq {e.get('seq')}, expected {seq}"]
    if e.get("prev") != prev: problems.append("prev is not the SHA-256 of the previous entry line")
    if admin_kind and not by_admin: problems.append("only the administrator may sign this")
    if kind in ("approve", "countersign", "reject") and by_admin: problems.append("decisions are signed by reviewers")
    if kind not in KINDS: problems.append("not an entry kind Veil writes")
    if kind == "admin" and admin is None: problems.append("your trust file names no administrator")
    problems += [p for p in [check_sig(e, principal)] if p]
    en = e.get("enrolment") or {}
    if not problems and kind == "admin": signers = {}  # from the trust root on, only enrolments count
    if not problems and kind == "enrol":
        window = "".join(f',{k}="{re.sub("[^0-9]", "", en[f])[:14]}Z"' for k, f in
                         (("valid-after", "valid_after"), ("valid-before", "valid_before")) if en.get(f))
        signers[en.get("principal", "?")] = f'namespaces="{NS}"{window} {en.get("key", "")}'
    if not problems and kind == "revoke": signers.pop(en.get("principal"), None)
    released = kind == "countersign" or (kind == "approve" and not any(
        g.get("gate") == "second_reviewer" and g.get("required") for g in e.get("gates") or []))
    out = (e.get("item"), e.get("output_name"), e.get("output_sha256"))
    if kind == "withdraw" and live.get(e.get("withdraws")) != out:
        problems.append(f"withdraws seq {e.get('withdraws')}, which is not a live release of this output")
    if kind == "withdraw" and not str(e.get("reason") or "").strip(): problems.append("no reason")
    if not problems and released: live[e.get("seq")] = out
    if not problems and kind == "withdraw": withdrawn.append(live.pop(e.get("withdraws"))[1])
    note = f" releases {out[1]} sha256 {out[2]}" if released else \
        f" withdraws {out[1]} (seq {e.get('withdraws')})" if kind == "withdraw" else ""
    say(f"line {n}: seq {e.get('seq')} {kind} by {principal}{note}: " + ("; ".join(problems) or "ok"))
    ok = ok and not problems
    prev, seq = hashlib.sha256(raw).hexdigest(), (e.get("seq") if isinstance(e.get("seq"), int) else seq) + 1
if not root: say("no administrator entry: legacy trust (checked against your allowed_signers only)")
say(f"live releases: {' '.join(n for _, n, _ in live.values()) or 'none'}; withdrawn: {' '.join(withdrawn) or 'none'}")
say(f"head {len(data)}:{hashlib.sha256(data).hexdigest()}")
sys.exit(0 if ok else 1)
