#!/usr/bin/env bash
# Records real desktop clips under Xvfb for the screen-content rate-control measurements
# (asp-codec/examples/desktop_report.rs): 1920x1080, 30 frames per second, Y4M (4:2:0).
#
#   scripts/record-desktop-clips.sh OUT_DIR [SECONDS]
#
# Clips: xterm-typing.y4m (an xterm full of text, typed into at 10 characters a second) and
# less-scrolling.y4m (`less` on a long text, scrolled a line every 100 ms). A 1080p Y4M is
# 3.1 MB a frame: keep OUT_DIR outside the repository.
set -euo pipefail
out=${1:?usage: $0 OUT_DIR [SECONDS]}
secs=${2:-6}
mkdir -p "$out"
need=(xvfb xterm xdotool xfonts-base x11-utils less ffmpeg)
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
ls -l "$out"
