// whip.js publishes a MediaStream over WHIP (RFC 9725): one sendonly transceiver per track,
// the whole offer (all ICE candidates) in one POST, PATCH for an ICE restart, DELETE to stop.

// WhipError is a failed WHIP request; code is the server's error code when it sent one.
export class WhipError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const GATHER_LIMIT_MS = 3000;
// RESTART_GATHER_MS and PATCH_LIMIT_MS keep an ICE restart inside the server's inactivity
// window (10 s without media ends a recording).
const RESTART_GATHER_MS = 1500;
const PATCH_LIMIT_MS = 3000;
const FRAG_TYPE = 'application/trickle-ice-sdpfrag';

// addOpusNack asks for NACK-based repairs of Opus packets, which browsers do not offer by
// default: one a=rtcp-fb:<pt> nack line per Opus payload type that lacks it.
export function addOpusNack(sdp) {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(eol);
  const out = [];
  for (const line of lines) {
    out.push(line);
    const m = /^a=rtpmap:(\d+) opus\/48000/i.exec(line);
    if (m && !lines.includes(`a=rtcp-fb:${m[1]} nack`)) out.push(`a=rtcp-fb:${m[1]} nack`);
  }
  return out.join(eol);
}

// iceServers reads rel="ice-server" Link headers (RFC 9725 section 4.6).
export function iceServers(headers) {
  const out = [];
  for (const link of (headers.get('Link') || '').split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]+)>(.*)$/.exec(link);
    if (!m || !/rel="?ice-server"?/.test(m[2])) continue;
    const server = { urls: m[1] };
    const user = /username="([^"]*)"/.exec(m[2]);
    const cred = /credential="([^"]*)"/.exec(m[2]);
    if (user) server.username = user[1];
    if (cred) server.credential = cred[1];
    out.push(server);
  }
  return out;
}

async function fetchICEServers(url, token) {
  try {
    const res = await fetch(url, { method: 'OPTIONS', headers: { Authorization: `Bearer ${token}` } });
    return iceServers(res.headers);
  } catch {
    return [];
  }
}

function gathered(pc, limit = GATHER_LIMIT_MS) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== 'complete') return;
      pc.removeEventListener('icegatheringstatechange', done);
      resolve();
    };
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, limit);
  });
}

async function errorOf(res) {
  let code = '', message = `The server answered ${res.status}.`;
  try {
    const body = await res.json();
    code = body.error.code;
    message = body.error.message;
  } catch {
    // not the JSON error shape
  }
  return new WhipError(res.status, code, message);
}

// preferResolution keeps the frame size when bandwidth drops (a recording wants sharp frames)
// and caps the bitrate.
async function tuneSender(sender, maxBitrate) {
  try {
    const p = sender.getParameters();
    p.degradationPreference = 'maintain-resolution';
    if (!p.encodings || !p.encodings.length) p.encodings = [{}];
    for (const e of p.encodings) e.maxBitrate = maxBitrate;
    await sender.setParameters(p);
  } catch {
    // older browsers: defaults are still usable
  }
}

// sdpLines splits SDP into lines without line ends.
function sdpLines(sdp) {
  return sdp.split(/\r?\n/).filter((l) => l !== '');
}

// mediaSections groups SDP lines: the session part, then one array per m= section.
function mediaSections(lines) {
  const sections = [[]];
  for (const l of lines) {
    if (l.startsWith('m=')) sections.push([]);
    sections[sections.length - 1].push(l);
  }
  return sections;
}

function attribute(lines, key) {
  const line = lines.find((l) => l.startsWith(`a=${key}:`));
  return line ? line.slice(key.length + 3) : '';
}

// offerFrag is the sdpfrag (RFC 8840) of an ICE restart offer: its credentials, then each
// media section's m= line, mid and candidates.
export function offerFrag(sdp) {
  const lines = sdpLines(sdp);
  const out = [`a=ice-ufrag:${attribute(lines, 'ice-ufrag')}`, `a=ice-pwd:${attribute(lines, 'ice-pwd')}`];
  for (const m of mediaSections(lines).slice(1)) {
    out.push(m[0]);
    if (attribute(m, 'mid')) out.push(`a=mid:${attribute(m, 'mid')}`);
    out.push(...m.filter((l) => l.startsWith('a=candidate:') || l === 'a=end-of-candidates'));
  }
  return out.join('\r\n') + '\r\n';
}

// parseFrag reads a server's sdpfrag: credentials and, per media section, mid and lines
// (candidates and end-of-candidates).
export function parseFrag(text) {
  const [head, ...sections] = mediaSections(sdpLines(text));
  const all = sdpLines(text);
  return {
    ufrag: attribute(all, 'ice-ufrag'),
    pwd: attribute(all, 'ice-pwd'),
    loose: head.filter(isCandidateLine),
    sections: sections.map((m) => ({ mid: attribute(m, 'mid'), lines: m.filter(isCandidateLine) })),
  };
}

function isCandidateLine(l) {
  return l.startsWith('a=candidate:') || l === 'a=end-of-candidates';
}

// restartAnswer rewrites the answer in use with the credentials and candidates of the
// server's restart frag, and a new session version.
export function restartAnswer(answer, fragText) {
  const frag = parseFrag(fragText);
  const eol = answer.includes('\r\n') ? '\r\n' : '\n';
  const [head, ...sections] = mediaSections(sdpLines(answer));
  const out = head.map((l) => rewriteICE(l, frag)).filter((l) => l !== null);
  sections.forEach((m, i) => {
    out.push(...m.map((l) => rewriteICE(l, frag)).filter((l) => l !== null));
    const mine = frag.sections.find((s) => s.mid && s.mid === attribute(m, 'mid')) || frag.sections[i];
    out.push(...(mine ? mine.lines : []), ...(i === 0 ? frag.loose : []));
  });
  return out.join(eol) + eol;
}

// rewriteICE replaces a credential line, drops an old candidate line (null) and bumps the
// origin's session version.
function rewriteICE(line, frag) {
  if (line.startsWith('a=ice-ufrag:')) return `a=ice-ufrag:${frag.ufrag}`;
  if (line.startsWith('a=ice-pwd:')) return `a=ice-pwd:${frag.pwd}`;
  if (isCandidateLine(line)) return null;
  const o = /^(o=\S+ \S+ )(\d+)( .*)$/.exec(line);
  if (o) return o[1] + (BigInt(o[2]) + 1n).toString() + o[3];
  return line;
}

// Session is one WHIP publication.
export class Session {
  constructor(pc, location, clipId, token, etag) {
    this.pc = pc;
    this.location = location;
    this.clipId = clipId;
    this.token = token;
    this.etag = etag; // of the ICE session, for If-Match on the next restart
  }

  // restartIce performs an ICE restart (RFC 9725 section 4.3): the new offer's credentials and
  // candidates go to the server in a PATCH with If-Match, and the server's new ones replace
  // those of the answer in use. The new ETag is kept for the next restart. On failure the
  // offer is rolled back and the error thrown.
  async restartIce() {
    const offer = await this.pc.createOffer({ iceRestart: true });
    await this.pc.setLocalDescription({ type: 'offer', sdp: addOpusNack(offer.sdp) });
    try {
      await gathered(this.pc, RESTART_GATHER_MS);
      const frag = await this.patch(offerFrag(this.pc.localDescription.sdp));
      await this.pc.setRemoteDescription({ type: 'answer', sdp: restartAnswer(this.pc.currentRemoteDescription.sdp, frag) });
    } catch (err) {
      if (this.pc.signalingState === 'have-local-offer') await this.pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
      throw err;
    }
  }

  // patch sends an ICE restart sdpfrag and returns the server's frag.
  async patch(frag) {
    const res = await fetch(this.location, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': FRAG_TYPE, 'If-Match': this.etag || '*' },
      body: frag,
      signal: AbortSignal.timeout(PATCH_LIMIT_MS),
    });
    if (res.status !== 200) throw await errorOf(res);
    this.etag = res.headers.get('ETag') || this.etag;
    return await res.text();
  }

  // stop ends the recording (DELETE) and returns the server's answer: the clip as JSON.
  async stop() {
    try {
      const res = await fetch(this.location, { method: 'DELETE', headers: { Authorization: `Bearer ${this.token}` } });
      if (!res.ok) throw await errorOf(res);
      return await res.json();
    } finally {
      this.pc.close();
    }
  }
}

// publish sends stream's tracks to the WHIP endpoint url with a bearer token.
export async function publish(url, token, stream, { videoBitrate = 2_500_000, audioBitrate = 96_000 } = {}) {
  const pc = new RTCPeerConnection({ iceServers: await fetchICEServers(url, token), bundlePolicy: 'max-bundle' });
  try {
    const senders = stream.getTracks().map((track) => {
      const t = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      return [t.sender, track.kind === 'video' ? videoBitrate : audioBitrate];
    });
    const offer = await pc.createOffer();
    await pc.setLocalDescription({ type: 'offer', sdp: addOpusNack(offer.sdp) });
    await gathered(pc);
    const res = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/sdp' },
      body: pc.localDescription.sdp,
    });
    if (res.status !== 201) throw await errorOf(res);
    const location = new URL(res.headers.get('Location'), new URL(url, document.baseURI)).href;
    const session = new Session(pc, location, res.headers.get('Parley-Clip-Id'), token, res.headers.get('ETag'));
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    await Promise.all(senders.map(([s, rate]) => tuneSender(s, rate)));
    return session;
  } catch (err) {
    pc.close();
    throw err;
  }
}
