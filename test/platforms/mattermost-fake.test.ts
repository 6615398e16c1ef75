import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mattermost from '@mattermost/client';
import WebSocket from 'ws';
import { startFakeMattermost, type FakeMattermost } from '../fakes/mattermost/index.js';

const { Client4, WebSocketClient } = mattermost;

/** The fake is only useful if the official client takes it for Mattermost: checked here with Client4 and WebSocketClient. */
describe('the fake Mattermost speaks to the official @mattermost/client', () => {
  let fake: FakeMattermost;
  let integration: Server;
  let integrationUrl: string;
  const clicks: unknown[] = [];
  before(async () => {
    fake = await startFakeMattermost();
    integration = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        clicks.push(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ephemeral_text: 'noted' }));
      });
    });
    await new Promise<void>((r) => integration.listen(0, '127.0.0.1', r));
    integrationUrl = `http://127.0.0.1:${(integration.address() as AddressInfo).port}/hook`;
  });
  after(async () => {
    await fake.close();
    await new Promise((r) => integration.close(r));
  });

  it('REST: getMe, createPost in a thread, getPostsSince, a 401 for a bad token', async () => {
    const bot = fake.addBot('rest-bot');
    fake.addHuman('rest-human');
    const channel = fake.addChannel('rest', { members: ['rest-bot', 'rest-human'] });
    const client = new Client4();
    client.setUrl(fake.url);
    client.setToken(bot.token);
    const me = await client.getMe();
    assert.deepEqual([me.username, me.is_bot], ['rest-bot', true]);
    const root = fake.post({ user: 'rest-human', channel: 'rest', message: 'root' });
    const reply = await client.createPost({ channel_id: channel.id, root_id: root.id, message: 'reply' } as never);
    assert.equal(reply.root_id, root.id);
    const since = await client.getPostsSince(channel.id, root.create_at - 1);
    assert.deepEqual(since.order, [reply.id, root.id]);
    const stranger = new Client4();
    stranger.setUrl(fake.url);
    stranger.setToken('nope');
    await assert.rejects(stranger.getMe(), (err: { status_code?: number }) => err.status_code === 401);
  });

  it('WebSocketClient: authentication challenge, hello, posted events; doPostAction calls the integration with the context', async () => {
    const bot = fake.addBot('ws-bot');
    const human = fake.addHuman('ws-human');
    fake.addChannel('ws', { members: ['ws-bot', 'ws-human'] });
    const g = globalThis as { WebSocket?: unknown };
    const previous = g.WebSocket;
    g.WebSocket = WebSocket;
    const socket = new WebSocketClient({ newWebSocketFn: (url: string) => new WebSocket(url) as never });
    const events: Array<{ event: string; data: Record<string, unknown> }> = [];
    socket.addMessageListener((msg) => events.push(msg as never));
    try {
      socket.initialize(fake.url.replace('http', 'ws') + '/api/v4/websocket', bot.token);
      await fake.waitFor(() => events.some((e) => e.event === 'hello'), 5000, 'hello');
      const card = fake.post({
        user: 'ws-bot',
        channel: 'ws',
        message: 'pick one',
        props: { attachments: [{ actions: [{ id: 'yes', name: 'Yes', integration: { url: integrationUrl, context: { secret: 42 } } }] }] },
      });
      const posted = await fake.waitFor(() => events.find((e) => e.event === 'posted'), 5000, 'posted');
      const post = JSON.parse(String(posted.data.post));
      assert.equal(post.id, card.id);
      assert.equal(post.props.attachments[0].actions[0].integration, undefined, 'clients never see the integration');

      const clicker = new Client4();
      clicker.setUrl(fake.url);
      clicker.setToken(human.token);
      await clicker.doPostAction(card.id, 'yes');
      assert.deepEqual(
        clicks.map((c) => {
          const x = c as Record<string, unknown>;
          return [x.user_id, x.user_name, x.post_id, x.context];
        }),
        [[human.id, 'ws-human', card.id, { secret: 42 }]],
      );
      assert.equal(fake.actions.at(-1)!.ephemeralText, 'noted');
    } finally {
      socket.close();
      g.WebSocket = previous;
    }
  });
});
