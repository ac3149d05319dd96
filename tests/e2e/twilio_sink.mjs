// A local server that speaks Twilio's Messages API, for the e2e tests of
// SMS: POST /2010-04-01/Accounts/{AccountSid}/Messages.json over HTTPS (the
// test certificate, ORBITNEST_E2E_TLS_CERT/_KEY) on 127.0.0.1, HTTP basic
// auth checked against one account, the form read as Twilio reads it
// (To, From or MessagingServiceSid, Body), and Twilio's JSON answers: 201
// with a queued message, or its error document. Every message accepted is
// kept; `waitFor(to)` hands it over with the code it carries. `failNext`
// makes the next requests answer 400 (21211), 429, 500, or never answer.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

const hex = (n) => randomBytes(n).toString('hex');

export class TwilioSink {
  // `accountSid` (AC + 32 hex) and `authToken`: the one account this server
  // knows; any other credential is 401 (Twilio's 20003).
  constructor({ accountSid = `AC${hex(16)}`, authToken = hex(16) } = {}) {
    this.accountSid = accountSid;
    this.authToken = authToken;
    this.requests = [];   // every request to the Messages resource: {to, status, at, authorized}
    this.messages = [];   // accepted: {sid, to, from, messagingServiceSid, body, code, contentType}
    this.unread = new Map();   // to -> [message, ...] not yet taken
    this.waiters = new Map();  // to -> [resolve, ...]
    this.failures = [];        // what the next requests answer instead of 201
    this.hanging = new Set();  // responses held open ('hang')
    this.server = createServer({
      key: readFileSync(process.env.ORBITNEST_E2E_TLS_KEY),
      cert: readFileSync(process.env.ORBITNEST_E2E_TLS_CERT),
    }, (req, res) => this.handle(req, res));
  }

  async listen() {
    // Port 0: the kernel picks a free port, no race with another listener.
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    this.baseUrl = `https://127.0.0.1:${this.port}`;
  }

  // The next `count` requests answer `mode`: 400 (21211, a bad To number),
  // 429 (with Retry-After: `retryAfter` seconds when given), 500, or 'hang'
  // (read the request, never answer).
  failNext(count, mode, { retryAfter } = {}) {
    for (let i = 0; i < count; i++) this.failures.push({ mode, retryAfter });
  }

  // The oldest message to `to` not taken yet, waiting for it if needed:
  // {body, code (the first run of 4-10 digits), from, messagingServiceSid, ...}.
  async waitFor(to, timeoutMs = 15000) {
    const queued = this.unread.get(to);
    if (queued?.length) return queued.shift();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no SMS to ${to} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.set(to, [...(this.waiters.get(to) ?? []), (m) => { clearTimeout(timer); resolve(m); }]);
    });
  }

  // The requests made for `to` (accepted or not), oldest first.
  requestsTo(to) { return this.requests.filter((r) => r.to === to); }

  close() {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections?.();
    this.server.close();
  }

  json(res, status, doc, headers = {}) {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(doc));
  }

  error(res, status, code, message, headers) {
    this.json(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, headers);
  }

  authorized(req) {
    const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    return decoded === `${this.accountSid}:${this.authToken}`;
  }

  handle(req, res) {
    const path = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Messages\.json$/.exec(req.url);
    let raw = '';
    req.on('data', (d) => { raw += d.toString('utf8'); });
    req.on('end', () => {
      if (!path) return this.error(res, 404, 20404, 'The requested resource was not found');
      if (req.method !== 'POST') return this.error(res, 405, 20004, 'Method not allowed');
      const form = new URLSearchParams(raw);
      const to = form.get('To');
      const record = { to, at: Date.now(), authorized: this.authorized(req) && path[1] === this.accountSid };
      this.requests.push(record);
      if (!record.authorized) {
        record.status = 401;
        return this.error(res, 401, 20003, 'Authenticate', { 'WWW-Authenticate': 'Basic realm="Twilio API"' });
      }
      const failure = this.failures.shift();
      if (failure?.mode === 'hang') {
        record.status = 'hang';
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return undefined;
      }
      if (failure) {
        record.status = failure.mode;
        if (failure.mode === 400) return this.error(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
        if (failure.mode === 429) {
          return this.error(res, 429, 20429, 'Too Many Requests',
            failure.retryAfter !== undefined ? { 'Retry-After': String(failure.retryAfter) } : {});
        }
        return this.error(res, 500, 20500, 'Internal Server Error');
      }
      const from = form.get('From');
      const messagingServiceSid = form.get('MessagingServiceSid');
      const body = form.get('Body');
      if (!to) return this.error(res, 400, 21604, "A 'To' phone number is required.");
      if (!from && !messagingServiceSid) return this.error(res, 400, 21603, "A 'From' phone number is required.");
      if (!body) return this.error(res, 400, 21602, 'Message body is required.');
      record.status = 201;
      const sid = `SM${hex(16)}`;
      const now = new Date().toUTCString().replace('GMT', '+0000');
      const message = {
        sid, to, from, messagingServiceSid, body,
        code: /\b(\d{4,10})\b/.exec(body)?.[1] ?? null,
        contentType: req.headers['content-type'],
        fields: [...form.keys()],
      };
      this.messages.push(message);
      const waiting = this.waiters.get(to);
      if (waiting?.length) waiting.shift()(message);
      else this.unread.set(to, [...(this.unread.get(to) ?? []), message]);
      return this.json(res, 201, {
        account_sid: this.accountSid,
        api_version: '2010-04-01',
        body,
        date_created: now,
        date_sent: null,
        date_updated: now,
        direction: 'outbound-api',
        error_code: null,
        error_message: null,
        from: from ?? null,
        messaging_service_sid: messagingServiceSid ?? null,
        num_media: '0',
        num_segments: '1',
        price: null,
        price_unit: 'USD',
        sid,
        status: 'queued',
        subresource_uris: { media: `/2010-04-01/Accounts/${this.accountSid}/Messages/${sid}/Media.json` },
        to,
        uri: `/2010-04-01/Accounts/${this.accountSid}/Messages/${sid}.json`,
      });
    });
  }
}
