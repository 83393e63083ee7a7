#!/usr/bin/env bash
# Records real desktop clips under Xvfb for the screen-content rate-control measurements
# (asp-codec/examples/desktop_report.rs): 1920x1080, 30 frames per second, Y4M (4:2:0).
#
#   scripts/record-desktop-clips.sh OUT_DIR [SECONDS]
#
# Clips: xterm-typing.y4m (an xterm full of text, typed into at 10 characters a second),
# less-scrolling.y4m (`less` on a long text, scrolled a line every 100 ms) and
# chromium-scrolling.y4m (Chromium on a generated article with coloured text and a table,
# scrolled with the arrow key every 100 ms). A 1080p Y4M is 3.1 MB a frame: keep OUT_DIR
# outside the repository.
set -euo pipefail
out=${1:?usage: $0 OUT_DIR [SECONDS]}
secs=${2:-6}
mkdir -p "$out"
need=(xvfb xterm xdotool xfonts-base x11-utils less ffmpeg chromium fonts-dejavu-core)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

display=:77
Xvfb "$display" -screen 0 1920x1080x24 -nolisten tcp &
xvfb=$!
trap 'kill "$xvfb" 2>/dev/null || true' EXIT
export DISPLAY=$display
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done

text=/usr/share/common-licenses/GPL-3
record() { # name
  ffmpeg -hide_banner -v error -y -f x11grab -framerate 30 -video_size 1920x1080 -i "$display" \
    -t "$secs" -pix_fmt yuv420p -f yuv4mpegpipe "$out/$1.y4m"
}

# 1. xterm: a screen of text, then typing at the prompt.
xterm -fn 9x15 -bg white -fg black -geometry 210x70+0+0 -e bash --norc --noprofile &
term=$!
sleep 1
xdotool type --delay 5 "head -n 62 $text"
xdotool key Return
sleep 0.5
record xterm-typing &
rec=$!
sleep 0.3
xdotool type --delay 100 "echo the quick brown fox jumps over the lazy dog; ls -la /usr/share/doc | head -n 20 && date"
wait "$rec"
kill "$term" 2>/dev/null || true
sleep 0.3

# 2. less: scrolling a long text a line at a time.
xterm -fn 9x15 -bg white -fg black -geometry 210x70+0+0 -e less "$text" &
term=$!
sleep 1
record less-scrolling &
rec=$!
sleep 0.3
for _ in $(seq $((secs * 10))); do xdotool key Down; sleep 0.1; done
wait "$rec"
kill "$term" 2>/dev/null || true

# 3. Chromium: a long generated article, scrolled with the arrow key (smooth scrolling on).
page=$(mktemp -d)/article.html
{
  echo '<!doctype html><html><head><meta charset="utf-8"><style>'
  echo 'body{font-family:DejaVu Sans,sans-serif;font-size:16px;margin:40px 160px;line-height:1.45}'
  echo 'h2{color:#1a4fa0} .r{color:#c0202a} .g{color:#1d7a2e} td{border:1px solid #999;padding:4px 10px}'
  echo 'tr:nth-child(even){background:#e8eef8}</style></head><body><h1>Adaptive streaming notes</h1>'
  for i in $(seq 40); do
    echo "<h2>Section $i: rate control and screen content</h2>"
    echo "<p>Paragraph $i. The sender estimates the capacity of the path from one-way delay trends and loss, paces packets at the target, and hands the encoder its bitrate. <span class=r>Text in red marks a warning,</span> <span class=g>text in green a result,</span> and the rest is ordinary body text that a reader scrolls through while the encoder keeps the edges sharp.</p>"
    echo "<table><tr><td>codec</td><td>preset</td><td>ms per frame</td></tr><tr><td>H.264</td><td>veryfast</td><td>$((i % 7 + 5)).$((i % 10))</td></tr><tr><td>HEVC</td><td>ultrafast</td><td>$((i % 5 + 12)).$((i % 9))</td></tr></table>"
  done
  echo '</body></html>'
} > "$page"
chromium --no-sandbox --disable-gpu --no-first-run --disable-translate --kiosk \
  --window-position=0,0 --window-size=1920,1080 --user-data-dir="$(dirname "$page")/profile" \
  "file://$page" >/dev/null 2>&1 &
browser=$!
sleep 4
record chromium-scrolling &
rec=$!
sleep 0.3
for _ in $(seq $((secs * 10))); do xdotool key Down; sleep 0.1; done
wait "$rec"
kill "$browser" 2>/dev/null || true
ls -l "$out"
