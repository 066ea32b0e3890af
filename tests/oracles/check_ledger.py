#!/usr/bin/env python3
"""Check a Veil ledger with OpenSSH alone: python3 check_ledger.py ledger.jsonl allowed_signers"""
import hashlib, json, subprocess, sys, tempfile

ledger, signers = sys.argv[1], sys.argv[2]
canon = lambda o: json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
data = open(ledger, "rb").read()
lines, pos = [], 0
for raw in data.split(b"\n")[:-1]:  # a final piece without a newline is never an entry
    lines.append((pos, raw))
    pos += len(raw) + 1

def parse(raw):
    try:
        e = json.loads(raw)
        return e if isinstance(e, dict) else None
    except ValueError:
        return None

# Bytes of interrupted writes, as named by the 'recovered' (or header) entry after them.
claims = [(d["offset"], d["offset"] + d["length"])
          for e in map(parse, (r for _, r in lines)) if e and (d := e.get("discarded"))]
prev, seq, ok = "0" * 64, 0, True
for n, (start, raw) in enumerate(lines, 1):
    e = parse(raw)
    if e is None or any(a <= start and start + len(raw) <= b for a, b in claims):
        print(f"line {n}: debris of an interrupted write, not an entry")
        continue
    problems = []
    if canon(e) != raw: problems.append("not canonical")
    if e.get("seq") != seq: problems.append(f"seq {e.get('seq')}, expected {seq}")
    if e.get("prev") != prev: problems.append("prev is not the SHA-256 of the previous entry line")
    sig = e.pop("sig", "")
    with tempfile.NamedTemporaryFile("w", suffix=".sig") as f:
        f.write(f"-----BEGIN SSH SIGNATURE-----\n{sig}\n-----END SSH SIGNATURE-----\n")
        f.flush()
        who = subprocess.run(["ssh-keygen", "-Y", "find-principals", "-f", signers, "-s", f.name],
                             capture_output=True, text=True).stdout.split()
        if not who:
            problems.append("signed by a key not in allowed_signers")
        elif subprocess.run(["ssh-keygen", "-Y", "verify", "-f", signers, "-I", who[0],
                             "-n", "veil-ledger@v1", "-s", f.name],
                            input=canon(e), capture_output=True).returncode:
            problems.append("signature does not verify")
    released = e["kind"] == "countersign" or (e["kind"] == "approve" and not any(
        g["gate"] == "second_reviewer" and g["required"] for g in e["gates"]))
    note = f" releases {e['output_name']} sha256 {e['output_sha256']}" if released else ""
    print(f"line {n}: seq {e.get('seq')} {e['kind']} by {who[0] if who else '?'}{note}: "
          + ("; ".join(problems) or "ok"))
    ok = ok and not problems
    prev, seq = hashlib.sha256(raw).hexdigest(), e.get("seq", seq) + 1
print(f"head {len(data)}:{hashlib.sha256(data).hexdigest()}")
sys.exit(0 if ok else 1)
