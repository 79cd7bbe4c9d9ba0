#!/usr/bin/env bash
# mktree.sh DIR [DIRS] [FILES]
#
# Builds a synthetic anonymous-FTP archive under DIR with exactly DIRS
# directories (not counting DIR itself) and exactly FILES regular files
# (defaults: 5000 and 100000). Shape: three levels of directories with a
# fan-out of about cbrt(DIRS) per level, files spread unevenly (a skewed,
# seeded distribution: most directories hold a handful of files, a few hold
# hundreds), about 5% of names contain spaces. Files are sparse (truncate),
# so the tree costs inodes, not disk space. No symlinks and no dot-files, so
# that every client sees the same set of entries with a plain LIST.
#
# Idempotent: a marker file DIR.mktree (beside DIR, not inside it, so it is
# never listed) records the parameters; if it matches and a count of DIR
# agrees, nothing is rebuilt. Deterministic: the same arguments always give
# the same tree.
set -euo pipefail

if [ $# -lt 1 ]; then
	echo "usage: $0 DIR [DIRS] [FILES]" >&2
	exit 2
fi
DIR=${1%/}
NDIRS=${2:-5000}
NFILES=${3:-100000}
VERSION=1
MARKER="$DIR.mktree"
WANT="mktree v$VERSION dirs=$NDIRS files=$NFILES"

count_tree() {
	local d f
	d=$(find "$DIR" -mindepth 1 -type d | wc -l)
	f=$(find "$DIR" -type f | wc -l)
	echo "dirs=$d files=$f"
}

if [ -d "$DIR" ] && [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$WANT" ]; then
	if [ "$(count_tree)" = "dirs=$NDIRS files=$NFILES" ]; then
		echo "mktree: $DIR already has $NDIRS dirs and $NFILES files; not rebuilding" >&2
		exit 0
	fi
	echo "mktree: $DIR does not match its marker; rebuilding" >&2
fi

rm -f "$MARKER"
if [ -e "$DIR" ]; then
	rm -rf --one-file-system "$DIR"
fi
mkdir -p "$DIR"

python3 - "$DIR" "$NDIRS" "$NFILES" <<'PY'
import math, os, random, sys

root, ndirs, nfiles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(20240601)

words = ["pub", "mirror", "dist", "incoming", "docs", "src", "linux", "gnu",
         "contrib", "archive", "old", "releases", "snapshots", "misc", "tools",
         "images", "patches", "people", "projects", "data"]
exts = [".tar.gz", ".tar.xz", ".zip", ".txt", ".iso", ".md5", ".sig", ".deb",
        ".rpm", ".pdf", ".c", ".h", ".html", ""]

def dirname(level, i):
    w = words[i % len(words)]
    if rng.random() < 0.05:
        return "%s %s %d" % (w.capitalize(), "Files", i)   # name with spaces
    return "%s-l%d-%04d" % (w, level, i)

def filename(i):
    r = rng.random()
    if r < 0.05:
        return "Release Notes %d%s" % (i, rng.choice([".txt", ".pdf", ""]))
    if r < 0.07:
        return "README-%d" % i
    return "%s-%d.%d.%d%s" % (rng.choice(words), i, rng.randint(0, 9),
                              rng.randint(0, 30), rng.choice(exts))

# Three levels: n1 dirs at the top, n2 below them, the rest at level 3.
f = max(1, math.ceil(ndirs ** (1.0 / 3.0)))
n1 = min(f, ndirs)
n2 = min(n1 * f, ndirs - n1)
n3 = ndirs - n1 - n2
dirs = []
level1 = []
for i in range(n1):
    p = os.path.join(root, dirname(1, i))
    level1.append(p)
level2 = []
for i in range(n2):
    level2.append(os.path.join(level1[i % n1], dirname(2, i)))
level3 = []
parents3 = level2 or level1 or [root]
for i in range(n3):
    level3.append(os.path.join(parents3[i % len(parents3)], dirname(3, i)))
dirs = level1 + level2 + level3
for d in dirs:
    os.mkdir(d)
assert len(dirs) == ndirs

# Spread files: a skewed weight per directory (Pareto), root gets some too.
holders = [root] + dirs
weights = [rng.paretovariate(1.3) for _ in holders]
total = sum(weights)
counts = [int(nfiles * w / total) for w in weights]
short = nfiles - sum(counts)
for i in range(short):
    counts[rng.randrange(len(counts))] += 1
n = 0
for d, c in zip(holders, counts):
    for _ in range(c):
        n += 1
        p = os.path.join(d, filename(n))
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        size = int(rng.lognormvariate(9, 2.5))
        if size:
            os.ftruncate(fd, min(size, 8 << 30))
        os.close(fd)
assert n == nfiles
PY

chmod -R u=rwX,go=rX "$DIR"
got=$(count_tree)
if [ "$got" != "dirs=$NDIRS files=$NFILES" ]; then
	echo "mktree: built $got, wanted dirs=$NDIRS files=$NFILES" >&2
	exit 1
fi
echo "$WANT" > "$MARKER"
echo "mktree: built $DIR with $NDIRS dirs and $NFILES files" >&2
