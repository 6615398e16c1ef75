/**
 * Webhook delivery: signed like GitHub (X-Hub-Signature-256 via @octokit/webhooks-methods),
 * one at a time in the order the state changed, each recorded with the receiver's answer.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { sign } from '@octokit/webhooks-methods';
import type { WebhookDelivery } from './types.js';

const HOOK_ID = 424242;

export class WebhookSender {
  readonly deliveries: WebhookDelivery[] = [];
  private url: string | null;
  private secret: string;
  private queue: Promise<void> = Promise.resolve();
  private readonly emitter = new EventEmitter();

  constructor(url?: string, secret?: string) {
    this.url = url ?? null;
    this.secret = secret ?? '';
    this.emitter.setMaxListeners(0);
  }

  configure(url: string, secret: string): void {
    this.url = url;
    this.secret = secret;
  }

  /**
   * Queues deliveries in order. They start after the current call stack (so after the REST
   * answer); a promise holds its place in the queue until its payloads are rendered.
   */
  enqueue(events: Array<{ event: string; payload: Record<string, any> }> | Promise<Array<{ event: string; payload: Record<string, any> }>>): void {
    this.queue = this.queue
      .then(() => new Promise<void>((r) => setImmediate(r)))
      .then(() => events)
      .then(async (list) => {
        for (const e of list) await this.deliver(e.event, e.payload, {});
      })
      .then(
        () => undefined,
        (err) => {
          console.error('fake GitHub: webhook payload failed:', err);
        },
      );
  }

  /** Sends right away (tests: custom secrets, bad or missing signatures, redelivery of an id). */
  async sendNow(event: string, payload: object, opts: { secret?: string; deliveryId?: string; signature?: string | null }): Promise<Response> {
    if (!this.url) throw new Error('fake GitHub: no webhook url; pass webhookUrl to startFakeGitHub or call setWebhook');
    const response = await this.deliver(event, payload as Record<string, any>, opts);
    if (!response) throw new Error(`fake GitHub: webhook delivery to ${this.url} failed: ${this.deliveries.at(-1)?.error}`);
    return response;
  }

  /** The repository webhook as `GET /repos/:owner/:repo/hooks` shows it (its last delivery's answer in `last_response`), or null without a URL. */
  hook(): Record<string, unknown> | null {
    if (!this.url) return null;
    const last = [...this.deliveries].reverse().find((d) => d.url === this.url);
    const last_response = !last
      ? { code: null, status: 'unused', message: null }
      : last.status === null
        ? { code: 502, status: 'failed', message: `failed to connect to host: ${last.error}` }
        : { code: last.status, status: last.status < 300 ? 'active' : 'failed', message: last.status < 300 ? 'OK' : `Invalid HTTP Response: ${last.status}` };
    return { id: HOOK_ID, type: 'Repository', name: 'web', active: true, events: ['*'], config: { url: this.url, content_type: 'json', insecure_ssl: '0' }, last_response };
  }

  settled(): Promise<void> {
    return this.queue;
  }

  waitFor(event: string, action: string | undefined, predicate: ((d: WebhookDelivery) => boolean) | undefined, timeoutMs: number): Promise<WebhookDelivery> {
    const matches = (d: WebhookDelivery): boolean => d.event === event && (action === undefined || d.action === action) && (!predicate || predicate(d));
    const found = this.deliveries.find(matches);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.emitter.off('delivery', onDelivery);
        reject(new Error(`fake GitHub: no ${event}${action ? `.${action}` : ''} webhook within ${timeoutMs} ms`));
      }, timeoutMs);
      const onDelivery = (d: WebhookDelivery): void => {
        if (!matches(d)) return;
        clearTimeout(timer);
        this.emitter.off('delivery', onDelivery);
        resolve(d);
      };
      this.emitter.on('delivery', onDelivery);
    });
  }

  private async deliver(event: string, payload: Record<string, any>, opts: { secret?: string; deliveryId?: string; signature?: string | null }): Promise<Response | null> {
    const body = JSON.stringify(payload);
    const delivery: WebhookDelivery = {
      id: opts.deliveryId ?? randomUUID(),
      event,
      action: typeof payload.action === 'string' ? payload.action : undefined,
      payload,
      url: this.url,
      status: null,
      responseBody: null,
      error: null,
    };
    this.deliveries.push(delivery);
    let response: Response | null = null;
    if (this.url) {
      const secret = opts.secret ?? this.secret;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/fake',
        'x-github-event': event,
        'x-github-delivery': delivery.id,
        'x-github-hook-id': String(HOOK_ID),
        'x-github-hook-installation-target-type': 'repository',
        'x-github-hook-installation-target-id': String(payload.repository?.id ?? 0),
      };
      const signature = opts.signature === undefined ? await sign(secret, body) : opts.signature;
      if (signature !== null) headers['x-hub-signature-256'] = signature;
      if (opts.signature === undefined) headers['x-hub-signature'] = `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
      try {
        response = await fetch(this.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
        delivery.status = response.status;
        delivery.responseBody = await response.clone().text();
      } catch (err) {
        delivery.error = err instanceof Error ? err.message : String(err);
      }
    }
    this.emitter.emit('delivery', delivery);
    return response;
  }
}
