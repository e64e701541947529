"""Split a corpus for `make eval` (scripts/eval.sh): every folder whose
name contains "spam" is spam, every other folder of message files ham;
each folder's files in name order, even ones to train/, odd ones to test/
(hard links, or copies across file systems). Usage: SRC DEST LIMIT."""

import os
import shutil
import sys

src, dest, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
counts = {}
for root, dirs, files in os.walk(src):
    files = sorted(f for f in files if not f.startswith(".") and f != "cmds")
    if not files:
        continue
    folder = os.path.basename(root)
    cls = "spam" if "spam" in folder.lower() else "ham"
    for i, name in enumerate(files):
        half = "train" if i % 2 == 0 else "test"
        key = (half, cls)
        if half == "test" and limit and counts.get(key, 0) >= limit:
            continue
        out = os.path.join(dest, half, cls)
        os.makedirs(out, exist_ok=True)
        target = os.path.join(out, f"{folder}.{name}")
        try:
            os.link(os.path.join(root, name), target)
        except OSError:
            shutil.copyfile(os.path.join(root, name), target)
        counts[key] = counts.get(key, 0) + 1
for (half, cls), n in sorted(counts.items()):
    print(f"eval: {half} {cls}: {n} messages")
