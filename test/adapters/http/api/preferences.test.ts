import { expect } from 'chai';
import type { HostResolver } from '../../../../adapters/outbound/destinationGuard.js';
import {
  errorPaths,
  eventCount,
  eventsAfter,
  expectNoNewEvents,
  expectProblem,
  registerPerson,
  type Person,
} from '../../../support/httpFixtures.js';
import { call, startTestServer, type TestServer } from '../../../support/testServer.js';

interface PreferencesBody {
  locale: string | null;
  timeZone: string | null;
  quietHours: { start: string; end: string; allowTimeSensitive: boolean } | null;
  digest: { at: string; deviceId: string } | null;
}

const NOTHING_CHOSEN: PreferencesBody = {
  locale: null,
  timeZone: null,
  quietHours: null,
  digest: null,
};

/** GET and PUT /v1/me/preferences over HTTP: what they answer, check and write. */
describe('HTTP preferences API (/v1/me/preferences)', () => {
  const resolver: HostResolver = () => Promise.resolve([{ address: '93.184.216.34', family: 4 }]);
  let server: TestServer;
  let person: Person;
  let deviceId: string;
  before(async () => {
    server = await startTestServer({ resolver });
    person = await registerPerson(server);
    const device = await call<{ deviceId: string }>(server.base, 'POST', '/v1/me/devices', {
      cookie: person.cookie,
      body: {
        kind: 'bark',
        settings: { serverUrl: 'https://bark.example.test', deviceKey: 'Key_0123456789' },
      },
    });
    expect(device.status, JSON.stringify(device.body)).to.equal(201);
    deviceId = device.body.deviceId;
  });
  after(async () => {
    await server.dispose();
  });

  const get = (who: Person = person) =>
    call<PreferencesBody>(server.base, 'GET', '/v1/me/preferences', { cookie: who.cookie });
  const put = (body: unknown, who: Person = person) =>
    call<PreferencesBody>(server.base, 'PUT', '/v1/me/preferences', { cookie: who.cookie, body });

  it('answers nulls (nothing chosen) for a person who never saved any', async () => {
    const fresh = await registerPerson(server);
    const reply = await get(fresh);
    expect(reply.status).to.equal(200);
    expect(reply.body).to.deep.equal(NOTHING_CHOSEN);
  });

  it('needs a session', async () => {
    expectProblem(await call(server.base, 'GET', '/v1/me/preferences'), 401, 'unauthorized');
  });

  it('saves all four fields as one RecipientPreferencesSet and answers them; GET reads them back', async () => {
    const wanted: PreferencesBody = {
      locale: 'zh-CN',
      timeZone: 'Asia/Shanghai',
      quietHours: { start: '22:30', end: '07:00', allowTimeSensitive: true },
      digest: { at: '08:15', deviceId },
    };
    const before = await eventCount(server.tidings);
    const reply = await put(wanted);
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
    expect(reply.body).to.deep.equal(wanted);
    const appended = await eventsAfter(server.tidings, before);
    expect(appended.map((event) => event.type)).to.deep.equal(['RecipientPreferencesSet']);
    expect(appended[0]?.stream).to.equal(`recipient-${person.recipientId}`);
    expect((await get()).body).to.deep.equal(wanted);
  });

  it('writes nothing when the same preferences are saved again', async () => {
    const same = (await get()).body;
    await expectNoNewEvents(server.tidings, async () => {
      const reply = await put(same);
      expect(reply.status).to.equal(200);
    });
  });

  it('takes nulls to go back to nothing chosen', async () => {
    const reply = await put(NOTHING_CHOSEN);
    expect(reply.status).to.equal(200);
    expect((await get()).body).to.deep.equal(NOTHING_CHOSEN);
  });

  const refusals: readonly [string, unknown, string[]][] = [
    ['an unknown time zone', { ...NOTHING_CHOSEN, timeZone: 'Mars/Olympus_Mons' }, ['/timeZone']],
    ['an offset instead of a zone name', { ...NOTHING_CHOSEN, timeZone: '+08:00' }, ['/timeZone']],
    ['a language Tidings does not have', { ...NOTHING_CHOSEN, locale: 'fr' }, ['/locale']],
    [
      'quiet hours at a time that is not HH:MM',
      { ...NOTHING_CHOSEN, quietHours: { start: '24:00', end: '7:00', allowTimeSensitive: false } },
      ['/quietHours/start', '/quietHours/end'],
    ],
    [
      'quiet hours that end when they start',
      {
        ...NOTHING_CHOSEN,
        quietHours: { start: '22:00', end: '22:00', allowTimeSensitive: false },
      },
      ['/quietHours/end'],
    ],
    [
      'a missing field (PUT replaces all four)',
      { locale: 'en' },
      ['/timeZone', '/quietHours', '/digest'],
    ],
    ['an unknown field', { ...NOTHING_CHOSEN, theme: 'dark' }, ['/theme']],
  ];
  for (const [what, body, paths] of refusals) {
    it(`refuses ${what}: 400 validation_failed naming the field, nothing written`, async () => {
      await expectNoNewEvents(server.tidings, async () => {
        const problem = expectProblem(await put(body), 400, 'validation_failed');
        expect(errorPaths(problem)).to.have.members(paths);
      });
    });
  }

  it('names the time zone field once, with a message that says what it wants', async () => {
    const problem = expectProblem(
      await put({ ...NOTHING_CHOSEN, timeZone: 'Not/AZone' }),
      400,
      'validation_failed',
    );
    expect(problem.errors).to.deep.equal([
      {
        path: '/timeZone',
        message: 'is not an IANA time zone name (e.g. Asia/Shanghai, Europe/London, UTC)',
      },
    ]);
  });

  it('refuses a digest to a device that is not the person’s (someone else’s, or none): validation_failed at /digest/deviceId, nothing written', async () => {
    const other = await registerPerson(server);
    await expectNoNewEvents(server.tidings, async () => {
      const problem = expectProblem(
        await put({ ...NOTHING_CHOSEN, digest: { at: '08:00', deviceId } }, other),
        400,
        'validation_failed',
      );
      expect(problem.errors).to.deep.equal([
        { path: '/digest/deviceId', message: 'is not one of your devices' },
      ]);
      const unknown = expectProblem(
        await put({ ...NOTHING_CHOSEN, digest: { at: '08:00', deviceId: 'dev_nope' } }),
        400,
        'validation_failed',
      );
      expect(errorPaths(unknown)).to.deep.equal(['/digest/deviceId']);
    });
  });

  it('is in the served OpenAPI document', async () => {
    const reply = await call<{ paths: Record<string, Record<string, unknown>> }>(
      server.base,
      'GET',
      '/openapi.json',
    );
    expect(Object.keys(reply.body.paths['/v1/me/preferences'] ?? {})).to.have.members([
      'get',
      'put',
    ]);
  });
});
