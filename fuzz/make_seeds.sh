#!/usr/bin/env bash
# Seed corpora for the fuzz targets, from the shared test data: make_seeds.sh TESTDATA_DIR OUT_DIR.
# Small inputs fuzz fastest, so photos are scaled to 48 px wide and clips cut to a few frames.
set -euo pipefail
testdata=$1
out=$2
mkdir -p "$out"/{image,video,options,upload,events}
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
n=0
for photo in "$testdata"/images/*.jpg "$testdata"/images/*.png; do
  [ -f "$photo" ] || continue
  n=$((n + 1))
  [ $n -le 6 ] || break
  for ext in jpg png bmp webp; do
    ff -i "$photo" -vf scale=48:-2 -frames:v 1 "$out/image/$n.$ext" || true
  done
  cp "$out/image/$n.jpg" "$out/video/$n.jpg" 2>/dev/null || true
done
# Grey, 16-bit and alpha PNGs reach the decoder's conversions.
first=$(ls "$testdata"/images/*.jpg | head -1)
ff -i "$first" -vf scale=32:-2 -pix_fmt gray "$out/image/grey.png" || true
ff -i "$first" -vf scale=32:-2 -pix_fmt rgb48be "$out/image/deep.png" || true
ff -i "$first" -vf scale=32:-2 -pix_fmt rgba "$out/image/alpha.png" || true
clip=$testdata/video/video_01.mp4
ff -i "$clip" -t 0.2 -vf scale=64:-2 -an "$out/video/clip.mp4" || true
ff -i "$clip" -t 0.2 -vf scale=64:-2 -an -c:v libvpx-vp9 "$out/video/clip.webm" || true
ff -i "$clip" -t 0.2 -vf scale=64:-2 -an -c:v mjpeg "$out/video/clip.avi" || true
ff -i "$clip" -t 0.2 -vf scale=64:-2 -an "$out/video/clip.mkv" || true
ff -i "$clip" -t 0.2 -vf scale=64:-2 -an "$out/video/clip.mov" || true
ff -i "$testdata/video/h264_aac.mp4" -t 0.2 -vf scale=64:-2 "$out/video/audio.mp4" || true
# Uploads: a client file name, a 0 byte, the file.
for f in "$out"/image/1.* "$out"/video/clip.mp4; do
  [ -f "$f" ] || continue
  { printf '%s\0' "../../photo $(basename "$f")"; cat "$f"; } >"$out/upload/$(basename "$f")"
done
# JSON bodies as the web UI and API clients send them.
cat >"$out/options/defaults.json" <<'JSON'
{"sources":["u_0123456789abcdef01234567"],"target":"u_89abcdef0123456789abcdef","options":{}}
JSON
cat >"$out/options/many.json" <<'JSON'
{"options":{"blend":"laplacian","color_match":"histogram","identity_strength":0.6,"face_mask_padding":[0,5,10,5],"face_selector_mode":"reference","reference_face_image":"u_0123456789abcdef01234567","reference_face_position":1,"face_enhancer":"gfpgan_1.4","output_format":"mp4","trim_frame_start":3,"trim_frame_end":9,"face_mask_types":["box","occlusion"],"keep_mouth_interior":true}}
JSON
cat >"$out/options/bad.json" <<'JSON'
{"options":{"blend":"nope","identity_strength":"x","face_mask_padding":[1,2,3,4,5],"trim_frame_start":9,"trim_frame_end":3}}
JSON
cat >"$out/events/ui.json" <<'JSON'
{"client":"c_0123456789abcdef01234567","events":[{"event":"ui.page","props":{"page":"workbench"}},{"event":"ui.action","props":{"control":"blend","action":"change","value":"affine","old_value":"seamless"}},{"event":"ui.action","props":{"control":"compare","action":"change","number":40}},{"event":"ui.error","props":{"code":"no_face","where":"preview"}},{"event":"ui.action","props":{"control":"ab_a","action":"change","value":"0_1_0"}}]}
JSON
cat >"$out/events/bad.json" <<'JSON'
{"client":"c_0123456789abcdef01234567","events":[{"event":"ui.action","props":{"control":"blend","value":"secret_name_123"}},{"event":"command.run","props":{}},{"event":"ui.page","props":[1,{"a":null}]}]}
JSON
