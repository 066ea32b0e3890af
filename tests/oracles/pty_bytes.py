"""Run a program in a pseudo-terminal of a given size and report, for each
key sent, how many bytes it wrote until its output went quiet: what an SSH
link would carry for that key. Answers the questions a terminal answers
(device attributes, status and cursor reports, window and cell sizes), as
a sixel-capable xterm would.

    python3 pty_bytes.py COLS ROWS CELL_W CELL_H KEYS_JSON -- PROGRAM ARGS...

KEYS_JSON is a list of [name, text] pairs; prints one JSON object a line:
{"step": name, "bytes": n, "seconds": s}, then {"exit": status}. With
PTY_AS=kitty in the environment it answers as kitty 0.26 does instead
(its version, and its graphics protocol's query).
"""
import fcntl, json, os, pty, select, struct, sys, termios, time

cols, rows, cw, ch = (int(a) for a in sys.argv[1:5])
keys = json.loads(sys.argv[5])
argv = sys.argv[sys.argv.index("--") + 1:]

pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "xterm-256color"
    os.execvp(argv[0], argv)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, cols * cw, rows * ch))

KITTY = os.environ.get("PTY_AS") == "kitty"
ANSWERS = [
    (b"\x1b[c", b"\x1b[?62;22c" if KITTY else b"\x1b[?64;4c"),
    (b"\x1b[5n", b"\x1b[0n"),
    (b"\x1b[6n", b"\x1b[1;1R"),
    (b"\x1b[14t", b"\x1b[4;%d;%dt" % (rows * ch, cols * cw)),
    (b"\x1b[16t", b"\x1b[6;%d;%dt" % (ch, cw)),
]


def drain(quiet, limit=120.0):
    n, start, last, tail = 0, time.time(), time.time(), b""
    while time.time() - start < limit:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                b = os.read(fd, 65536)
            except OSError:
                break
            if not b:
                break
            n += len(b)
            last = time.time()
            seen = tail + b
            # Answers in the order the questions were asked, as a terminal
            # does: Veil stops listening at the answer to its last one.
            if KITTY and b"\x1b[>0q" in b:
                os.write(fd, b"\x1bP>|kitty(0.26.5)\x1b\\")
            for ask, answer in ANSWERS:
                # Each question once: those that end in the new bytes.
                at = seen.find(ask)
                while at >= 0:
                    if at + len(ask) > len(tail):
                        os.write(fd, answer)
                    at = seen.find(ask, at + 1)
            if KITTY:
                for part in b.split(b"\x1b_G")[1:]:
                    keys = part.split(b";", 1)[0]
                    fields = dict(kv.split(b"=", 1) for kv in keys.split(b",") if b"=" in kv)
                    if fields.get(b"a") == b"q" and b"i" in fields:
                        os.write(fd, b"\x1b_Gi=" + fields[b"i"] + b";OK\x1b\\")
            tail = b[-8:]
        elif time.time() - last > quiet:
            break
    return n, last - start


n, s = drain(quiet=3.0)
print(json.dumps({"step": "start-up", "bytes": n, "seconds": round(s, 3)}), flush=True)
for name, text in keys:
    os.write(fd, text.encode("latin1"))
    n, s = drain(quiet=1.5)
    print(json.dumps({"step": name, "bytes": n, "seconds": round(s, 3)}), flush=True)
deadline = time.time() + 20
status = None
while time.time() < deadline:
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(st)
        break
    drain(quiet=0.2, limit=0.5)
print(json.dumps({"exit": status}), flush=True)
