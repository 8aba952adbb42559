import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { bearer } from '../support/auth.js';
import { tempDir } from '../support/fixtures.js';
import { type Service, startService } from '../support/service.js';

/** A self-signed certificate for 127.0.0.1, made with the system's openssl. */
function certificate(): { certFile: string; keyFile: string } {
  const dir = tempDir('tls-');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile };
}

describe('HTTPS and WSS with a configured certificate', () => {
  let service: Service & { url: string };
  let ca: Buffer;

  beforeAll(async () => {
    const { certFile, keyFile } = certificate();
    ca = readFileSync(certFile);
    service = await startService({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile });
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('answers GraphQL over HTTPS and graphql-ws over WSS', async () => {
    const url = service.url.replace('http:', 'https:');
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        `${url}/graphql`,
        { method: 'POST', ca, headers: { 'content-type': 'application/json', ...bearer() } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => {
            text += c.toString();
          });
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ query: '{ apiKeys { edges { node { keyId } } } }' }));
    });
    expect(JSON.parse(body)).toEqual({ data: { apiKeys: { edges: [] } } });

    const socket = new WebSocket(`${url.replace('https:', 'wss:')}/graphql`, 'graphql-transport-ws', { ca });
    const ack = await new Promise<string>((resolve, reject) => {
      socket.on('open', () =>
        socket.send(
          JSON.stringify({ type: 'connection_init', payload: { authorization: bearer().authorization } }),
        ),
      );
      socket.on('message', (data: Buffer) => resolve(JSON.parse(data.toString()).type));
      socket.on('error', reject);
    });
    expect(ack).toBe('connection_ack');
    socket.close();
  });
});
