// The swap options form. Which controls exist, their labels and grouping live here; defaults, allowed
// values and ranges come from GET /api/config when the server lists them (the CLI's defaults otherwise),
// so the form and the API cannot disagree. Keys are the API's option keys (docs/api.md, "Options").

import { h, clear } from '../shared/dom.js';
import { apiUrl } from '../shared/api.js';

// Options that shape only the classic swapper's face: hidden (and not sent) with an ONNX swapper, which the
// API would refuse them for.
const classicSwapper = (v) => !v.face_swapper_model || v.face_swapper_model === 'classic';

const SPEC = [
  {
    group: 'Swap',
    items: [
      { key: 'identity_strength', label: 'Identity strength', kind: 'range', min: 0, max: 1, step: 0.05, default: 0.8,
        hint: 'How much of the source replaces the target; 0 keeps the target.' },
      // Shown only when the server lists it (the ONNX swappers need their model files).
      { key: 'face_swapper_model', label: 'Face swapper model', kind: 'select', values: ['classic'], default: 'classic',
        optional: true },
      { key: 'face_swapper_pixel_boost', label: 'Swapper resolution', kind: 'select', values: ['128x128'], default: '128x128',
        optional: true, showIf: (v) => v.face_swapper_model && v.face_swapper_model !== 'classic',
        hint: 'The face is swapped at this size; larger keeps more detail and takes longer.' },
      { key: 'face_swapper_weight', label: 'Swapper weight', kind: 'range', min: 0, max: 1, step: 0.05, default: 0.5,
        optional: true, showIf: (v) => v.face_swapper_model && v.face_swapper_model !== 'classic' },
      { key: 'blend', label: 'Blend mode', kind: 'select', values: ['auto', 'seamless', 'affine', 'laplacian'], default: 'auto' },
      { key: 'color_match', label: 'Skin-tone matching', kind: 'select', values: ['none', 'reinhard', 'histogram'],
        default: 'reinhard' },
      { key: 'keep_mouth_interior', label: 'Keep mouth interior', kind: 'checkbox', default: true,
        hint: "Keeps the target's open mouth and teeth (its expression), and its whole mouth when the expressions differ." },
      { key: 'target_lighting', label: 'Target lighting', kind: 'range', min: 0, max: 1, step: 0.05, default: 1,
        hint: "Share of the target's light and skin colour on the new face.", showIf: classicSwapper },
      { key: 'match_sharpness', label: 'Match sharpness', kind: 'checkbox', default: false,
        hint: "Softens the source's detail to a softer target's: video frames, blur, small faces.",
        showIf: classicSwapper },
    ],
  },
  {
    group: 'Video',
    video: true,
    items: [
      { key: 'preview_frame', label: 'Preview frame', kind: 'timeline', min: 0, step: 1, default: 0, request: false },
      { key: 'trim_frame_start', label: 'Trim start frame', kind: 'number', min: 0, step: 1, default: 0 },
      { key: 'trim_frame_end', label: 'Trim end frame', kind: 'number', min: 0, step: 1, default: -1, blank: true,
        hint: 'First frame dropped; empty keeps the video to its end.' },
      { key: 'output_video_quality', label: 'Video quality', kind: 'range', min: 0, max: 100, step: 1, default: 64,
        hint: '100 is lossless; higher means larger files.' },
      { key: 'output_video_encoder', label: 'Video encoder', kind: 'select', values: ['libx264'], default: 'libx264', optional: true,
        labels: { libx264: 'H.264 (libx264)', libx265: 'H.265 (libx265)', 'libvpx-vp9': 'VP9 (libvpx-vp9)' } },
      { key: 'output_video_preset', label: 'Encoder speed', kind: 'select', values: ['veryfast'], default: 'veryfast', optional: true,
        hint: 'Slower presets make smaller files at the same quality.' },
      { key: 'output_video_fps', label: 'Frames per second', kind: 'number', min: 0, step: 1, default: 0, blank: true, optional: true,
        placeholder: 'as the target', hint: 'Empty keeps the target\'s frame rate.' },
      { key: 'output_video_scale', label: 'Output size', kind: 'range', min: 0.1, max: 4, step: 0.05, default: 1, optional: true,
        hint: 'A factor of the target\'s size.' },
      { key: 'output_audio_volume', label: 'Audio volume', kind: 'range', min: 0, max: 100, step: 1, default: 100, optional: true },
      { key: 'face_detector_interval', label: 'Detect faces every', kind: 'number', min: 1, step: 1, default: 2, optional: true,
        hint: 'Frames between face detections; faces are followed in between (1 detects on every frame).' },
    ],
  },
  {
    group: 'Mask',
    collapsed: true,
    items: [
      { key: 'face_mask_blur', label: 'Mask blur', kind: 'range', min: 0, max: 1, step: 0.05, default: 0.3 },
      { key: 'skin_mask', label: 'Skin mask', kind: 'checkbox', default: true,
        hint: 'Keeps the target wherever either face is not skin: bangs, glasses frames, a beard.',
        showIf: classicSwapper },
      { key: 'face_mask_padding', label: 'Mask padding', kind: 'padding', min: 0, max: 100, default: [0, 0, 0, 0],
        hint: 'Percent of the face cut away from each side.' },
      { key: 'face_mask_types', label: 'Mask shape', kind: 'multi', default: ['box'], optional: true,
        labels: { box: 'Box around the face', area: 'Face outline (landmarks)' }, min: 1 },
    ],
  },
  {
    group: 'Face selection',
    items: [
      { key: 'face_selector_mode', label: 'Face selector mode', kind: 'select', values: ['many', 'one', 'reference'],
        default: 'reference' },
      { key: 'face_selector_order', label: 'Face order', kind: 'select',
        values: ['left-right', 'right-left', 'top-bottom', 'bottom-top', 'small-large', 'large-small', 'best-worst', 'worst-best'],
        default: 'large-small' },
      { key: 'reference_face_position', label: 'Reference face', kind: 'gallery', default: 0,
        showIf: (v) => v.face_selector_mode === 'reference' },
      { key: 'reference_face_distance', label: 'Reference similarity', kind: 'range', min: 0, max: 2, step: 0.05, default: 0.6,
        optional: true, showIf: (v) => v.face_selector_mode === 'reference',
        hint: 'How far a face may look from the reference and still be replaced; higher replaces more faces.' },
      { key: 'face_selector_gender', label: 'Gender filter (estimated)', kind: 'select', values: ['', 'female', 'male'], default: '',
        optional: true, labels: { '': 'any gender' } },
      { key: 'face_selector_age_start', label: 'Youngest estimated age', kind: 'number', min: 0, step: 1, default: 0, optional: true },
      { key: 'face_selector_age_end', label: 'Oldest estimated age', kind: 'number', min: 0, step: 1, default: 100, optional: true },
    ],
  },
  {
    group: 'Enhancers',
    collapsed: true,
    items: [
      { key: 'face_enhancer', label: 'Face enhancer', kind: 'select', values: ['none', 'detail'], default: 'none' },
      { key: 'face_enhancer_blend', label: 'Face enhancer blend', kind: 'range', min: 0, max: 100, step: 1, default: 80,
        showIf: (v) => v.face_enhancer !== 'none' },
      { key: 'frame_enhancer', label: 'Frame enhancer', kind: 'select',
        values: ['none', 'fsrcnn_x2', 'fsrcnn_x4', 'espcn_x2', 'espcn_x4'], default: 'none' },
      { key: 'frame_enhancer_blend', label: 'Frame enhancer blend', kind: 'range', min: 0, max: 100, step: 1, default: 80,
        showIf: (v) => v.frame_enhancer !== 'none' },
    ],
  },
  {
    group: 'Output',
    collapsed: true,
    items: [
      { key: 'output_format', label: 'File format', kind: 'select', values: [''], default: '', optional: true,
        labels: { '': 'same as the target' }, only: (isVideo) => (isVideo ? ['', 'mp4', 'mov', 'mkv', 'webm', 'avi'] : ['', 'jpg', 'png', 'webp', 'bmp']) },
      { key: 'output_image_quality', label: 'Image quality', kind: 'range', min: 0, max: 100, step: 1, default: 90, optional: true,
        image: true, hint: 'JPEG and WebP; higher means larger files.' },
      { key: 'processors', label: 'Also', kind: 'multi', default: ['face_swapper'], optional: true, min: 1,
        labels: { face_swapper: 'Swap faces', face_debugger: 'Draw face boxes and landmarks (debugger)' } },
    ],
  },

];

const PADDING_SIDES = ['top', 'right', 'bottom', 'left'];
const SETTLE_MS = 600;

// A face's place in the selector's order (what reference_face_position counts); older answers had only index.
function facePosition(face, n) {
  if (Number.isInteger(face.position)) return face.position;
  return Number.isInteger(face.index) ? face.index : n;
}

// What cannot run here, short: the values whose model is not installed in one sentence, others with
// their own reason.
function unavailableText(missing) {
  const absent = [];
  const other = [];
  for (const [v, text] of Object.entries(missing)) {
    if (/^not installed/.test(text)) absent.push(v.replace(/_/g, ' '));
    else other.push(`${v.replace(/_/g, ' ')} cannot run here: ${text.replace(/;.*$/, '')}.`);
  }
  const parts = [];
  if (absent.length) parts.push(`Not installed on this server: ${absent.join(', ')}.`);
  return [...parts, ...other].join(' ');
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function formatNumber(n, step) {
  if (n === null || n === undefined || Number.isNaN(n)) return '';
  return step && step < 1 ? Number(n).toFixed(2) : String(Math.round(n));
}

// Numbers from a C++ float come back as 0.800000011920929; 7 significant digits give back the 0.8 the
// user sees and the slider produces, so comparisons with the default hold.
function tidy(v) {
  if (typeof v === 'number') return Number(v.toPrecision(7));
  if (Array.isArray(v)) return v.map(tidy);
  return v;
}

// Merges one spec item with what /api/config says about that option.
function withConfig(item, cfg) {
  const o = { ...item };
  if (!cfg || typeof cfg !== 'object') return o;
  if ('default' in cfg && cfg.default !== undefined) o.default = tidy(cfg.default);
  if (Array.isArray(cfg.values) && cfg.values.length) o.values = cfg.values.map(String);
  if (typeof cfg.min === 'number') o.min = tidy(cfg.min);
  if (typeof cfg.max === 'number') o.max = tidy(cfg.max);
  return o;
}

export class OptionsForm {
  // onChange(key, newValue, oldValue) is called at once for every committed change (a slider on release);
  // onSettled(key, newValue, oldValue) once a control has stayed unchanged for SETTLE_MS, so stepping a
  // slider with the arrow keys is reported as one change (telemetry), not one per step.
  constructor(container, config, { onChange, onSettled }) {
    this.container = container;
    this.onChange = onChange;
    this.onSettled = onSettled;
    this.pending = new Map(); // key -> { old, timer }
    this.items = new Map();
    this.values = {};
    this.controls = new Map(); // key -> { row, inputs[], errorEl, update() }
    this.groups = [];
    this.isVideo = false;
    this.faces = [];
    this.facesUpload = null;
    this.invalid = new Set(); // keys whose control holds a value the form refused
    this.video = { frames: 0, fps: 0 }; // the video target's length, for the timeline
    this.folds = []; // folded groups and their "n changed" label
    const options = (config && config.options) || {};
    this.unavailable = (config && config.unavailable) || {};
    this.spec = SPEC.map((g) => ({ ...g, items: g.items.filter((i) => !i.optional || options[i.key]) }));
    for (const group of this.spec) {
      for (const raw of group.items) {
        const item = withConfig(raw, options[raw.key]);
        this.items.set(item.key, item);
        this.values[item.key] = Array.isArray(item.default) ? [...item.default] : item.default;
      }
    }
    this.render();
  }

  render() {
    clear(this.container);
    for (const group of this.spec) {
      const id = `group-${group.group.toLowerCase().replace(/\W+/g, '-')}`;
      const fieldset = h('fieldset', { class: 'group', id }, h('legend', { class: group.collapsed ? 'visually-hidden' : '' }, group.group));
      for (const raw of group.items) fieldset.append(this.renderItem(this.items.get(raw.key)));
      // Less used groups fold away (a long form on a phone); the summary counts what was changed there.
      let el = fieldset;
      if (group.collapsed) {
        const count = h('span', { class: 'changed muted small' });
        el = h('details', { class: 'group-fold' }, h('summary', {}, group.group, count), fieldset);
        this.folds.push({ group, count });
      }
      if (group.video) el.hidden = !this.isVideo;
      this.groups.push({ spec: group, el, fieldset });
      this.container.append(el);
    }
    this.refreshVisibility();
  }

  renderItem(item) {
    const id = `opt-${item.key}`;
    const errorEl = h('p', { class: 'field-error', id: `err-${item.key}` });
    const hintEl = item.hint ? h('p', { class: 'hint', id: `hint-${item.key}` }, item.hint) : null;
    const describedBy = [hintEl && hintEl.id, errorEl.id].filter(Boolean).join(' ');
    const control = { errorEl, inputs: [], row: null, update: () => {} };
    let row;
    const commit = (next) => {
      const old = this.values[item.key];
      if (same(old, next)) return;
      this.values[item.key] = next;
      this.clearFieldError(item.key);
      this.refreshVisibility();
      if (this.describeTrim) this.describeTrim();
      this.onChange(item.key, next, old);
      this.settleLater(item.key, old);
    };

    if (item.kind === 'range') {
      const input = h('input', { type: 'range', id, min: item.min, max: item.max, step: item.step,
        value: this.values[item.key], 'aria-describedby': describedBy });
      const out = h('output', { for: id, class: 'num' }, formatNumber(this.values[item.key], item.step));
      input.addEventListener('input', () => (out.textContent = formatNumber(Number(input.value), item.step)));
      input.addEventListener('change', () => commit(Number(input.value)));
      control.inputs.push(input);
      control.update = () => {
        input.value = this.values[item.key];
        out.textContent = formatNumber(this.values[item.key], item.step);
      };
      row = h('div', { class: 'field range' }, h('div', { class: 'field-head' }, h('label', { for: id }, item.label), out),
        input, hintEl, errorEl);
    } else if (item.kind === 'select') {
      // Values the server cannot run (a model not installed) are shown, greyed out, with the reason.
      const missing = this.unavailable[item.key] || {};
      const select = h('select', { id, 'aria-describedby': describedBy });
      const word = (v) => (item.labels && v in item.labels ? item.labels[v] : v.replace(/_/g, ' '));
      // Some choices depend on the target (file formats of an image or a video).
      const fill = () => {
        clear(select);
        const values = item.only ? item.values.filter((v) => item.only(this.isVideo).includes(v)) : item.values;
        for (const v of values) {
          select.append(h('option', { value: v, disabled: v in missing, title: missing[v] },
            v in missing ? `${word(v)} (not installed)` : word(v)));
        }
        if (!values.includes(this.values[item.key])) this.values[item.key] = item.default;
        select.value = this.values[item.key];
      };
      fill();
      control.refill = fill;
      const why = unavailableText(missing);
      select.value = this.values[item.key];
      select.addEventListener('change', () => commit(select.value));
      control.inputs.push(select);
      control.update = () => (select.value = this.values[item.key]);
      row = h('div', { class: 'field' }, h('label', { for: id }, item.label), select, hintEl,
        why ? h('p', { class: 'hint unavailable' }, why) : null, errorEl);
    } else if (item.kind === 'checkbox') {
      const box = h('input', { type: 'checkbox', id, 'aria-describedby': describedBy });
      box.checked = Boolean(this.values[item.key]);
      box.addEventListener('change', () => commit(box.checked));
      control.inputs.push(box);
      control.update = () => (box.checked = Boolean(this.values[item.key]));
      row = h('div', { class: 'field checkbox' }, h('span', { class: 'check' }, box, h('label', { for: id }, item.label)),
        hintEl, errorEl);
    } else if (item.kind === 'number') {
      // blank: the default means "not set" (e.g. trim to the end) and shows as an empty field.
      const shown = (v) => (item.blank && (v === null || v === item.default) ? '' : v);
      const input = h('input', { type: 'number', id, min: item.blank ? 0 : item.min, max: item.max, step: item.step, inputmode: 'numeric',
        value: shown(this.values[item.key]), placeholder: item.blank ? item.placeholder || 'end' : '', 'aria-describedby': describedBy });
      input.addEventListener('change', () => {
        const n = Number(input.value);
        if (input.value.trim() === '' || !Number.isFinite(n)) commit(item.default);
        else commit(Math.min(item.max ?? Infinity, Math.max(item.blank ? 0 : item.min ?? -Infinity, Math.round(n))));
        input.value = shown(this.values[item.key]);
      });
      control.inputs.push(input);
      control.update = () => (input.value = shown(this.values[item.key]));
      row = h('div', { class: 'field number' }, h('label', { for: id }, item.label), input, hintEl, errorEl);
    } else if (item.kind === 'padding') {
      // The server takes 0 <= side < max, and opposite sides together below max (they would cut the
      // whole face away): a value out of range is said next to the field, never changed silently.
      const top = item.max - 1;
      const cells = PADDING_SIDES.map((side, i) => {
        const input = h('input', { type: 'number', id: `${id}-${side}`, min: item.min, max: top, step: 1,
          value: this.values[item.key][i], 'aria-label': `${item.label} ${side}`, 'aria-describedby': describedBy });
        input.addEventListener('change', () => {
          const next = [...this.values[item.key]];
          const n = Number(input.value);
          if (input.value.trim() === '' || !Number.isFinite(n) || n < item.min || n > top) {
            this.showFieldError(item.key, `Each side takes ${item.min} to ${top} percent (${side}: got ${input.value.trim() || 'nothing'}).`);
            input.setAttribute('aria-invalid', 'true');
            this.markInvalid(item.key, true);
            return;
          }
          next[i] = Math.round(n);
          input.value = next[i];
          const other = (i + 2) % 4;
          if (next[i] + next[other] >= item.max) {
            this.showFieldError(item.key, `${side} and ${PADDING_SIDES[other]} together must stay below ${item.max} percent (got ${next[i] + next[other]}); they would cut the whole face away.`);
            input.setAttribute('aria-invalid', 'true');
            this.markInvalid(item.key, true);
            return;
          }
          this.markInvalid(item.key, false);
          commit(next);
        });
        control.inputs.push(input);
        return h('label', { class: 'pad-cell' }, h('span', {}, side), input);
      });
      control.update = () => control.inputs.forEach((el, i) => (el.value = this.values[item.key][i]));
      row = h('fieldset', { class: 'field padding', 'aria-describedby': describedBy },
        h('legend', {}, item.label), h('div', { class: 'pad-grid' }, ...cells), hintEl, errorEl);
    } else if (item.kind === 'multi') {
      // Several of a list (mask shapes, extra processors); at least item.min stay chosen.
      const choices = item.values.filter((v) => !item.labels || v in item.labels);
      const boxes = choices.map((v) => {
        const box = h('input', { type: 'checkbox', id: `${id}-${v}`, value: v, 'aria-describedby': describedBy });
        box.checked = this.values[item.key].includes(v);
        box.addEventListener('change', () => {
          const next = choices.filter((c) => boxes.find((b) => b.value === c).checked);
          // Values the form has no box for (e.g. processors the enhancer selects add) are kept.
          const kept = this.values[item.key].filter((x) => !choices.includes(x));
          if (next.length + kept.length < (item.min || 0)) {
            box.checked = true;
            this.showFieldError(item.key, `Keep at least ${item.min === 1 ? 'one' : item.min} of these.`);
            return;
          }
          commit([...next, ...kept].sort((a, b) => item.values.indexOf(a) - item.values.indexOf(b)));
        });
        control.inputs.push(box);
        return box;
      });
      control.update = () => boxes.forEach((b) => (b.checked = this.values[item.key].includes(b.value)));
      row = h('fieldset', { class: 'field multi', 'aria-describedby': describedBy }, h('legend', {}, item.label),
        ...boxes.map((b) => h('span', { class: 'check' }, b, h('label', { for: b.id }, item.labels ? item.labels[b.value] : b.value))),
        hintEl, errorEl);
    } else if (item.kind === 'timeline') {
      // A frame slider over the video: the frame previewed, and buttons that trim the video there.
      const input = h('input', { type: 'range', id, min: 0, max: 0, step: 1, value: this.values[item.key], 'aria-describedby': describedBy });
      const out = h('output', { for: id, class: 'num' });
      const kept = h('p', { class: 'hint', id: `${id}-kept` });
      const startBtn = h('button', { type: 'button', class: 'secondary small-btn' }, 'Start here');
      const endBtn = h('button', { type: 'button', class: 'secondary small-btn' }, 'End after this frame');
      const time = (n) => (this.video.fps > 0 ? `${(n / this.video.fps).toFixed(2)} s` : '');
      const describe = () => {
        const n = Number(input.value);
        out.textContent = [`frame ${n}`, time(n)].filter(Boolean).join(' · ');
        input.setAttribute('aria-valuetext', out.textContent);
        const start = this.values.trim_frame_start || 0;
        const endRaw = this.values.trim_frame_end;
        const end = endRaw === null || endRaw === undefined || endRaw < 0 ? this.video.frames : Math.min(endRaw, this.video.frames);
        kept.textContent = this.video.frames
          ? `Keeps frames ${start} to ${Math.max(start, end - 1)} of ${this.video.frames}${this.video.fps > 0 ? ` (${((end - start) / this.video.fps).toFixed(1)} s)` : ''}.`
          : '';
      };
      input.addEventListener('input', describe);
      input.addEventListener('change', () => commit(Number(input.value)));
      startBtn.addEventListener('click', () => this.setValue('trim_frame_start', Number(input.value)));
      endBtn.addEventListener('click', () => this.setValue('trim_frame_end', Number(input.value) + 1));
      control.inputs.push(input);
      control.update = () => {
        input.max = String(Math.max(0, (this.video.frames || 1) - 1));
        input.value = this.values[item.key];
        describe();
      };
      this.describeTrim = describe;
      row = h('div', { class: 'field range timeline' }, h('div', { class: 'field-head' }, h('label', { for: id }, item.label), out),
        input, h('div', { class: 'timeline-buttons' }, startBtn, endBtn), kept, hintEl, errorEl);
      control.update();
    } else if (item.kind === 'gallery') {
      const list = h('div', { class: 'gallery', role: 'group', 'aria-label': 'Reference face of the target' });
      control.gallery = list;
      control.update = () => this.renderGallery(item, list, commit);
      row = h('div', { class: 'field gallery-field' }, h('span', { class: 'label' }, item.label),
        h('p', { class: 'hint' }, 'Faces like this one are replaced. Choose a face of the target.'), list, errorEl);
      this.renderGallery(item, list, commit);
    }
    control.row = row;
    this.controls.set(item.key, control);
    return row;
  }

  settleLater(key, old) {
    const p = this.pending.get(key);
    if (p) clearTimeout(p.timer);
    this.pending.set(key, { old: p ? p.old : old, timer: setTimeout(() => this.settle(key), SETTLE_MS) });
  }

  // Reports every change still waiting to settle (before a preview or run, and when the page is left).
  settle(only) {
    for (const [key, p] of [...this.pending]) {
      if (only !== undefined && key !== only) continue;
      clearTimeout(p.timer);
      this.pending.delete(key);
      if (!same(p.old, this.values[key])) this.onSettled(key, this.values[key], p.old);
    }
  }

  renderGallery(item, list, commit) {
    clear(list);
    if (!this.faces.length) {
      list.append(h('p', { class: 'muted small' }, this.facesUpload ? 'No face found in the target.' : 'Upload a target to see its faces.'));
      return;
    }
    this.faces.forEach((face, n) => {
      const position = facePosition(face, n);
      const selected = this.values[item.key] === position;
      // Which face: its number in the current face order (the caption and the summary below say it).
      const button = h('button', { type: 'button', class: 'face', 'aria-pressed': String(selected),
        'aria-label': `Reference face ${n + 1} of ${this.faces.length}` },
        h('figure', {}, h('img', { src: apiUrl(face.crop), alt: '', loading: 'lazy' }),
          h('figcaption', { 'aria-hidden': 'true' }, String(n + 1))));
      button.addEventListener('click', () => {
        commit(position);
        // A pick is one deliberate change: reported now, before a new face order may renumber it.
        this.settle(item.key);
        this.renderGallery(item, list, commit);
      });
      list.append(button);
    });
    const k = this.faces.findIndex((f, n) => facePosition(f, n) === this.values[item.key]);
    if (k >= 0) {
      const order = String(this.values.face_selector_order || '').replace(/-/g, ' to ');
      list.append(h('p', { class: 'gallery-chosen small muted', 'aria-live': 'polite' },
        `Face ${k + 1} of ${this.faces.length} is the reference${order ? ` (faces numbered ${order})` : ''}.`));
    }
  }

  // The target changed (or its faces were listed again in another order): its kind decides whether video
  // options show; its faces fill the gallery. The chosen reference face stays chosen when it is still there.
  setTarget(kind, uploadId, faces, video = {}) {
    const chosen = this.chosenFace();
    this.isVideo = kind === 'video';
    if (uploadId !== this.facesUpload) {
      this.video = { frames: Number(video.frames) || 0, fps: Number(video.fps) || 0 };
      if (this.values.preview_frame >= this.video.frames) this.values.preview_frame = 0;
    }
    this.faces = Array.isArray(faces) ? faces : [];
    const same = uploadId === this.facesUpload && chosen && Number.isInteger(chosen.index);
    const kept = same ? this.faces.findIndex((f) => f.index === chosen.index) : -1;
    this.facesUpload = uploadId;
    if (kept >= 0) this.values.reference_face_position = facePosition(this.faces[kept], kept);
    else if (!this.faces.some((f, n) => facePosition(f, n) === this.values.reference_face_position)) {
      this.values.reference_face_position = this.items.get('reference_face_position').default;
    }
    for (const g of this.groups) if (g.spec.video) g.el.hidden = !this.isVideo;
    for (const c of this.controls.values()) if (c.refill) c.refill();
    this.controls.get('preview_frame').update();
    this.refreshVisibility();
    this.controls.get('reference_face_position').update();
  }

  chosenFace() {
    return this.faces.find((f, n) => facePosition(f, n) === this.values.reference_face_position) || null;
  }

  shown(item) {
    return (!item.showIf || item.showIf(this.values)) && !(item.image && this.isVideo);
  }

  refreshVisibility() {
    for (const [key, item] of this.items) {
      const c = this.controls.get(key);
      if (c && c.row) c.row.hidden = !this.shown(item);
    }
    for (const { group, count } of this.folds) {
      const n = group.items.filter((i) => this.items.has(i.key) && i.request !== false && !same(this.values[i.key], this.items.get(i.key).default)).length;
      count.textContent = n ? ` · ${n} changed` : '';
    }
  }

  get previewFrame() {
    return this.isVideo ? this.values.preview_frame || 0 : 0;
  }

  // The options for a preview or job: only those that differ from the default (and apply to the target).
  // all: every changed value, whatever the target (what a reload restores).
  requestOptions({ all = false } = {}) {
    const out = {};
    for (const group of this.spec) {
      if (group.video && !this.isVideo && !all) continue;
      for (const raw of group.items) {
        const item = this.items.get(raw.key);
        if (item.request === false && !all) continue;
        if (!this.shown(item) && !all) continue;
        const v = this.values[item.key];
        if (v === null || v === undefined || same(v, item.default)) continue;
        out[item.key] = v;
      }
    }
    return out;
  }

  // A change made by a control other than the key's own (the timeline's trim buttons).
  setValue(key, value) {
    const old = this.values[key];
    if (same(old, value)) return;
    this.values[key] = value;
    this.controls.get(key).update();
    this.clearFieldError(key);
    this.refreshVisibility();
    if (this.describeTrim) this.describeTrim();
    this.onChange(key, value, old);
    this.settleLater(key, old);
  }

  markInvalid(key, bad) {
    if (bad === this.invalid.has(key)) return;
    if (bad) this.invalid.add(key);
    else this.invalid.delete(key);
    this.onChange(key, this.values[key], this.values[key]);
  }

  // The label of a field whose value must be fixed before a preview or run, or null.
  get problem() {
    const key = this.invalid.values().next().value;
    return key ? this.items.get(key).label : null;
  }

  // A job's options in words, e.g. "Blend mode laplacian · Identity strength 0.60" (the job list).
  describe(options) {
    const parts = [];
    for (const [key, value] of Object.entries(options || {})) {
      const item = this.items.get(key);
      const label = item ? item.label : key.replace(/_/g, ' ');
      let shown;
      if (typeof value === 'boolean') shown = value ? 'on' : 'off';
      else if (Array.isArray(value)) shown = value.join(' ');
      else if (typeof value === 'number') shown = formatNumber(value, item ? item.step : 1);
      else shown = String(value).replace(/_/g, ' ');
      parts.push(`${label} ${shown}`);
    }
    return parts.length ? parts.join(' · ') : 'default options';
  }

  // Every option back to its default, then the given ones (a job's options, or what a reload restores).
  setValues(options) {
    this.settle();
    for (const [key, item] of this.items) {
      const v = options && key in options ? tidy(options[key]) : item.default;
      this.values[key] = Array.isArray(v) ? [...v] : v;
    }
    if (Array.isArray(this.values.face_mask_padding) && this.values.face_mask_padding.length !== 4) {
      const p = this.values.face_mask_padding;
      this.values.face_mask_padding = p.length === 1 ? [p[0], p[0], p[0], p[0]] : p.length === 2 ? [p[0], p[1], p[0], p[1]]
        : p.length === 3 ? [p[0], p[1], p[2], p[1]] : [...this.items.get('face_mask_padding').default];
    }
    for (const c of this.controls.values()) c.update();
    this.invalid.clear();
    this.clearErrors();
    this.refreshVisibility();
  }

  // Shows an API error next to the field it names; returns false when the form has no such field.
  showFieldError(field, message) {
    const key = String(field || '').replace(/\[.*$/, '');
    const c = this.controls.get(key);
    if (!c) return false;
    c.errorEl.textContent = message;
    c.inputs.forEach((el) => el.setAttribute('aria-invalid', 'true'));
    const group = this.groups.find((g) => g.el.contains(c.row));
    if (group && group.el.hidden) return false;
    if (group && group.el.tagName === 'DETAILS') group.el.open = true;
    if (c.row.hidden) c.row.hidden = false;
    return true;
  }

  clearFieldError(key) {
    const c = this.controls.get(key);
    if (!c) return;
    c.errorEl.textContent = '';
    c.inputs.forEach((el) => el.removeAttribute('aria-invalid'));
  }

  clearErrors() {
    for (const key of this.controls.keys()) this.clearFieldError(key);
  }
}
