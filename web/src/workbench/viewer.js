// The right-hand stage: the target before anything ran, a preview image, or a finished job as a
// before/after compare (a slider reveals the result over the target frame) or a video player.

import { api, apiUrl } from '../shared/api.js';
import { $ } from '../shared/dom.js';

export class Viewer {
  constructor({ onCompare, onZoom = () => {} }) {
    this.onCompare = onCompare;
    this.onZoom = onZoom;
    this.placeholder = $('#stage-placeholder');
    this.single = $('#single-view');
    this.singleImg = $('#single-img');
    this.caption = $('#single-caption');
    this.video = $('#result-video');
    this.compare = $('#compare');
    this.before = $('#before-img');
    this.after = $('#after-img');
    this.divider = $('#compare-divider');
    this.slider = $('#compare-slider');
    this.title = $('#viewer-title');
    this.badge = $('#provenance-badge');
    this.objectUrl = null;
    this.zoomBtn = $('#zoom-btn');
    this.zoomed = false;
    this.face = null; // { box: [x, y, w, h], width, height } of the frame shown
    this.zoomBtn.addEventListener('click', () => {
      this.zoomed = !this.zoomed;
      this.onZoom(this.zoomed);
      this.applyZoom();
    });
    this.slider.addEventListener('input', () => this.setSplit(Number(this.slider.value)));
    this.slider.addEventListener('change', () => this.onCompare(Number(this.slider.value)));
    this.setSplit(Number(this.slider.value));
  }

  // The face to zoom to in the frame shown (a tall or wide frame leaves it small); null: none known.
  setFace(face, width, height) {
    this.face = face && Array.isArray(face.box) && width > 0 && height > 0 ? { box: face.box, width, height } : null;
    const [, , w, h] = this.face ? this.face.box : [0, 0, 0, 0];
    // Worth it only when the face is small in the frame.
    this.zoomBtn.hidden = !this.face || (w > width / 3 && h > height / 3);
    if (this.zoomBtn.hidden) this.zoomed = false;
    this.applyZoom();
  }

  applyZoom() {
    this.zoomBtn.setAttribute('aria-pressed', String(this.zoomed));
    this.zoomBtn.textContent = this.zoomed ? 'Whole frame' : 'Zoom to the face';
    for (const inner of document.querySelectorAll('.zoom-inner')) {
      if (!this.zoomed || !this.face) {
        inner.style.transform = '';
        inner.style.removeProperty('--zoom');
        continue;
      }
      const [x, y, w, h] = this.face.box;
      const { width, height } = this.face;
      const k = Math.max(1, Math.min(6, width / (2.4 * w), height / (2.4 * h)));
      inner.style.transformOrigin = `${(100 * (x + w / 2)) / width}% ${(100 * (y + h / 2)) / height}%`;
      inner.style.transform = `scale(${k})`;
      inner.style.setProperty('--zoom', String(k));
    }
  }

  setSplit(percent) {
    this.after.style.clipPath = `inset(0 ${100 - percent}% 0 0)`;
    this.divider.style.left = `${percent}%`;
    this.slider.setAttribute('aria-valuetext', `${percent}% result, ${100 - percent}% target`);
  }

  // The result's provenance, as POST /api/inspect reads it back from the file itself.
  async showProvenance(job) {
    this.badge.hidden = true;
    this.badgeFor = job.id;
    let r;
    try {
      r = await api.inspect({ job: job.id });
    } catch {
      return;  // the badge is a courtesy: a failed check shows nothing rather than a wrong claim
    }
    if (this.badgeFor !== job.id) return;
    const marks = [];
    if (r.metadata && r.metadata.synthetic) marks.push('metadata');
    if (r.watermark && r.watermark.found) {
      // Found with no payload: the presence mark alone (what survives a strong re-encode) says "made by
      // faceweave", but which run made it can no longer be read.
      const presenceOnly = !r.watermark.payload;
      marks.push(`watermark ${r.watermark.confidence.toFixed(2)}${presenceOnly ? ' (presence only, run id unreadable)' : ''}`);
    }
    this.badge.textContent = marks.length ? `Marked as synthetic · ${marks.join(' · ')}` : 'Not marked as synthetic';
    this.badge.classList.toggle('marked', marks.length > 0);
    this.badge.title = 'Every faceweave output says it is synthetic: IPTC digital source type in the metadata and an invisible watermark (docs/provenance.md)';
    this.badge.hidden = false;
  }

  show(which) {
    if (which !== 'compare' && which !== 'video') {
      this.badge.hidden = true;
      this.badgeFor = null;
    }
    if (which === 'video' || which === 'none') this.zoomBtn.hidden = true;
    this.placeholder.hidden = which !== 'none';
    this.single.hidden = which !== 'single';
    this.compare.hidden = which !== 'compare';
    this.video.hidden = which !== 'video';
    if (which !== 'video') this.video.removeAttribute('src');
  }

  releaseObjectUrl() {
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = null;
  }

  showTarget(url) {
    this.releaseObjectUrl();
    this.title.textContent = 'Target';
    this.singleImg.src = url;
    this.singleImg.alt = 'Target frame';
    this.caption.textContent = 'Target · press Preview to try the options';
    this.show('single');
  }

  showPreview(blob, caption) {
    this.releaseObjectUrl();
    this.objectUrl = URL.createObjectURL(blob);
    this.title.textContent = 'Preview';
    this.singleImg.src = this.objectUrl;
    this.singleImg.alt = 'Preview of the swap';
    this.caption.textContent = caption;
    this.show('single');
  }

  showResult(job) {
    this.releaseObjectUrl();
    const resultUrl = apiUrl((job.result && job.result.url) || `/api/jobs/${job.id}/result`);
    this.title.textContent = 'Result';
    this.showProvenance(job);
    if (job.kind === 'video') {
      this.video.src = resultUrl;
      this.show('video');
      return;
    }
    this.before.src = apiUrl(`/api/uploads/${job.target}/frame`);
    this.after.src = resultUrl;
    this.slider.value = 50;
    this.setSplit(50);
    this.show('compare');
  }
}
