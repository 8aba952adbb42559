import type { Notification } from '../domain/alerting/decide.js';

export interface DeliveryResult {
  readonly ok: boolean;
  readonly attempts: number;
  readonly error?: string;
}

/**
 * Posts a notification as JSON to a webhook, retrying failures (network errors, 5xx, 429) with
 * exponential backoff and jitter; 4xx other than 429 is final.
 */
export async function postWebhook(
  url: string,
  notification: Notification & { readonly id: string },
  options: { attempts?: number; baseDelayMs?: number; timeoutMs?: number; random?: () => number } = {},
): Promise<DeliveryResult> {
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 200;
  const random = options.random ?? Math.random;
  let error = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(notification),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      await response.arrayBuffer().catch(() => undefined); // release the connection
      if (response.ok) return { ok: true, attempts: attempt };
      error = `webhook answered ${response.status}`;
      if (response.status < 500 && response.status !== 429) return { ok: false, attempts: attempt, error };
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    if (attempt < attempts)
      await new Promise((r) => setTimeout(r, base * 2 ** (attempt - 1) * (0.5 + random() / 2)));
  }
  return { ok: false, attempts, error };
}
