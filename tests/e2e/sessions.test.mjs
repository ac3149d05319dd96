// Session lifetimes (GoTrue's timebox, inactivity timeout and single
// session per user), per project: a session over its time refreshes no
// more (400 session_expired) and its access tokens are refused at once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { address, startAppliance } from './appliance.mjs';

let app;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
before(async () => {
  app = await startAppliance('sessions', { settings: ['debug_mode=true', 'otp_resend_seconds=0'] });
});
after(async () => app?.stop());

async function signIn(email) {
  const auth = app.authClient();
  assert.equal((await auth.signInWithOtp({ email })).error, null);
  const { data, error } = await auth.verifyOtp({ email, token: '1234', type: 'email' });
  assert.equal(error, null);
  return { auth, session: data.session };
}

// GET /user with a token: its status and error code.
async function userWith(token) {
  const r = await fetch(`${app.authUrl}/user`, { headers: { apikey: app.publishableKey, Authorization: `Bearer ${token}` } });
  return { status: r.status, code: (await r.json()).error_code };
}

async function settings(...pairs) {
  app.authdCli('project', 'settings', 'e2e', ...pairs);
  await sleep(5500);  // authd caches a project for 5 s
}

test('timebox, inactivity timeout and single session per user', async () => {
  await settings('session_timebox_seconds=4');
  const boxed = await signIn(address('timebox'));
  assert.equal((await boxed.auth.refreshSession()).error, null, 'within the timebox');
  await sleep(4500);
  const over = await boxed.auth.refreshSession();
  assert.equal(over.error?.code, 'session_expired');
  assert.deepEqual(await userWith(boxed.session.access_token), { status: 403, code: 'session_not_found' });

  await settings('session_timebox_seconds=0', 'session_inactivity_timeout_seconds=3');
  const idle = await signIn(address('idle'));
  for (let i = 0; i < 3; i++) {  // kept alive by refreshes 2 s apart, 6 s in all
    await sleep(2000);
    assert.equal((await idle.auth.refreshSession()).error, null, `refresh ${i}`);
  }
  await sleep(3500);
  assert.equal((await idle.auth.refreshSession()).error?.code, 'session_expired');

  await settings('session_inactivity_timeout_seconds=0', 'single_session_per_user=true');
  const email = address('single');
  const first = await signIn(email);
  const second = await signIn(email);
  assert.deepEqual(await userWith(first.session.access_token), { status: 403, code: 'session_not_found' });
  assert.notEqual((await first.auth.refreshSession()).error, null);
  assert.equal((await userWith(second.session.access_token)).status, 200);
  await settings('single_session_per_user=false');
});
