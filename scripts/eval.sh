#!/usr/bin/env bash
# make eval: spam detection of mailwarden against SpamAssassin 4 on the same
# corpus, same rules (Debian's spamassassin package), network tests off, the
# same Bayes training. Not part of make test.
#
#   EVAL_CORPUS=/path/to/corpus.tar.xz make eval      (or an unpacked directory)
#
# The corpus: folders of one message per file whose name says the class
# (folders named *spam* are spam, the rest ham), e.g. the SpamAssassin
# public corpus (easy_ham, easy_ham_2, hard_ham, spam, spam_2). Each folder is
# split in two by file name order (even: training, odd: test). Both filters
# learn the training half (mailwarden learn / sa-learn) and judge the test
# half; a message is spam at a score of 5 (SpamAssassin's required_score).
# Prints, per filter: spam caught, ham flagged, and seconds per message.
#
# Knobs: EVAL_CORPUS, EVAL_LIMIT (test messages per class, default all),
# EVAL_DIR (work directory), MW_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MW=${MW_BIN:-$ROOT/build/mailwarden}
CORPUS=${EVAL_CORPUS:?set EVAL_CORPUS to a corpus (.tar.xz or directory; see scripts/eval.sh)}
W=${EVAL_DIR:-$(mktemp -d /tmp/mw-eval.XXXXXX)}
LIMIT=${EVAL_LIMIT:-0}
PY=/usr/bin/python3

need=()
for c in spamassassin:spamassassin sa-learn:spamassassin spamd:spamd spamc:spamc; do
  command -v "${c%%:*}" >/dev/null || need+=("${c#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "eval: installing ${need[*]} (Debian packages; their services are not started)"
  scripts/apt-install-stopped.sh "${need[@]}"
fi

echo "eval: work directory $W"
mkdir -p "$W/corpus"
if [ -d "$CORPUS" ]; then SRC=$CORPUS; else tar -xJf "$CORPUS" -C "$W/corpus"; SRC=$W/corpus; fi
$PY "$ROOT/bench/eval_split.py" "$SRC" "$W/split" "$LIMIT"

# --- mailwarden ---------------------------------------------------------------
cat > "$W/mw.yaml" <<EOF
hostname: eval.mailwarden.test
state_dir: $W/mw-state
scan:
  rules: [/usr/share/spamassassin]
  bayes_min_learned: 200
  inbound:
    checks: {rules: score, bayes: score}
    tag: 5
EOF
mkdir -p "$W/mw-state"
"$MW" learn -c "$W/mw.yaml" --spam "$W/split/train/spam" | sed 's/^/eval: mailwarden learn /'
"$MW" learn -c "$W/mw.yaml" --ham "$W/split/train/ham" | sed 's/^/eval: mailwarden learn /'
start=$(date +%s.%N)
for class in spam ham; do
  find "$W/split/test/$class" -type f -print0 | xargs -0 -n 200 "$MW" scan -c "$W/mw.yaml" --json \
    > "$W/mw-$class.json"
done
mw_secs=$($PY -c "import time; print(time.time() - $start)")

# --- SpamAssassin ---------------------------------------------------------------
mkdir -p "$W/sa-site" "$W/sa-bayes"
cp /etc/spamassassin/*.pre "$W/sa-site/"
cat > "$W/sa-site/local.cf" <<EOF
required_score 5
use_bayes 1
bayes_auto_learn 0
bayes_path $W/sa-bayes/bayes
bayes_file_mode 0666
EOF
chmod -R a+rwX "$W/sa-bayes" "$W/sa-site"
SA_ARGS=(--siteconfigpath="$W/sa-site")
sa-learn "${SA_ARGS[@]}" --local --spam "$W/split/train/spam" | sed 's/^/eval: sa-learn /'
sa-learn "${SA_ARGS[@]}" --local --ham "$W/split/train/ham" | sed 's/^/eval: sa-learn /'
chmod -R a+rwX "$W/sa-bayes"
PORT=27783
spamd "${SA_ARGS[@]}" --local --listen=127.0.0.1:$PORT --max-children=2 --username=nobody \
  --pidfile="$W/spamd.pid" --daemonize --syslog=stderr 2>"$W/spamd.log"
for _ in $(seq 100); do [ -s "$W/spamd.pid" ] && ss -ltn | grep -q ":$PORT " && break; sleep 0.2; done
start=$(date +%s.%N)
for class in spam ham; do
  : > "$W/sa-$class.txt"
  find "$W/split/test/$class" -type f -print0 | while IFS= read -r -d '' f; do
    # X-Spam-Status, unfolded: "score=S required=R tests=A,B,..." -> "S/R A,B,... FILE"
    status=$(spamc -d 127.0.0.1 -p $PORT < "$f" 2>/dev/null | awk '
      /^\r?$/ { exit }
      /^X-Spam-Status:/ { on = 1; s = $0; next }
      on && /^[ \t]/ { s = s " " $0; next }
      { on = 0 }
      END { gsub(/[\r\t]/, " ", s); print s }') || true
    score=$(sed -n 's/.*score=\([-0-9.]*\) required=\([-0-9.]*\).*/\1\/\2/p' <<< "$status")
    tests=$(sed -n 's/.*tests=\([A-Za-z0-9_, ]*\) autolearn=.*/\1/p; s/.*tests=\([A-Za-z0-9_,]*\).*/\1/p' <<< "$status" | head -1 | tr -d ' ')
    printf '%s %s %s\n' "${score:-none}" "${tests:-none}" "$f" >> "$W/sa-$class.txt"
  done
done
sa_secs=$($PY -c "import time; print(time.time() - $start)")
kill "$(cat "$W/spamd.pid")"

$PY "$ROOT/bench/eval_report.py" "$W" "$mw_secs" "$sa_secs"
echo
"$MW" check-config -c "$W/mw.yaml" > "$W/check-config.txt" 2>&1 || true
$PY "$ROOT/bench/eval_compat.py" "$W"
