#!/usr/bin/env bash
# Installs what the browser tests and the web benchmarks need, only when it is missing:
# Debian's chromium (Playwright cannot download its own browser here) and the pinned npm tools
# (axe-core, Lighthouse) of tests/web/node. Safe to run on every `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM=/usr/lib/chromium/chromium
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    echo "ensure-browser: $CHROMIUM is missing and this user cannot install it (needs root for apt-get install chromium)" >&2
    exit 1
  fi
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "ensure-browser: installing Debian's chromium with apt-get (about a minute)"
  # Another apt run (e.g. unattended upgrades) holds the lock: wait for it rather than fail.
  for _ in $(seq 60); do pgrep -x apt-get >/dev/null || break; sleep 2; done
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# Captions hold emoji: without a colour emoji font the screenshots show boxes where a
# visitor's browser shows emoji. Only the screenshots need it, so its failure is not fatal.
EMOJI_FONT=/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
if [ ! -f "$EMOJI_FONT" ] && { [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null; }; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "ensure-browser: installing an emoji font (fonts-noto-color-emoji) for the screenshots"
  for _ in $(seq 60); do pgrep -x apt-get >/dev/null || break; sleep 2; done
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq fonts-noto-color-emoji >/dev/null 2>&1 \
    || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq fonts-noto-color-emoji >/dev/null; } \
    || echo "ensure-browser: no emoji font installed: emoji show as boxes in the screenshots" >&2
fi

NODE_DIR=tests/web/node
if [ ! -f "$NODE_DIR/node_modules/axe-core/axe.min.js" ] || [ ! -x "$NODE_DIR/node_modules/.bin/lighthouse" ] \
   || [ "$NODE_DIR/package-lock.json" -nt "$NODE_DIR/node_modules/.package-lock.json" ]; then
  echo "ensure-browser: installing the pinned npm tools (axe-core, lighthouse)"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
