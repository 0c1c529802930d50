// whip.js publishes a MediaStream over WHIP (RFC 9725): one sendonly transceiver per track,
// the whole offer (all ICE candidates) in one POST, DELETE to stop.

// WhipError is a failed WHIP request; code is the server's error code when it sent one.
export class WhipError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const GATHER_LIMIT_MS = 3000;

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

function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== 'complete') return;
      pc.removeEventListener('icegatheringstatechange', done);
      resolve();
    };
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, GATHER_LIMIT_MS);
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

// Session is one WHIP publication.
export class Session {
  constructor(pc, location, clipId, token) {
    this.pc = pc;
    this.location = location;
    this.clipId = clipId;
    this.token = token;
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
    const session = new Session(pc, location, res.headers.get('Parley-Clip-Id'), token);
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    await Promise.all(senders.map(([s, rate]) => tuneSender(s, rate)));
    return session;
  } catch (err) {
    pc.close();
    throw err;
  }
}
