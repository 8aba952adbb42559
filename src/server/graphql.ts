import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { type ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, maskError } from 'graphql-yoga';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { GraphQLContext } from '../schema/context.js';
import { exposeError } from '../schema/errors.js';
import { buildSchema } from '../schema/index.js';

export const GRAPHQL_PATH = '/graphql';
/** Header naming who asks; recorded on the facts a mutation causes. (Not authenticated yet.) */
export const PRINCIPAL_HEADER = 'x-principal';
/** Operations (mostly subscriptions) one WebSocket connection may have running at once. */
export const MAX_OPERATIONS_PER_SOCKET = 100;

export interface GraphQLServer {
  /** Serves HTTP (queries, mutations, subscriptions over SSE) on `/graphql`. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Serves graphql-ws subscriptions on the same port and path. */
  attach(server: Server): void;
  close(): Promise<void>;
}

type BaseContext = Omit<GraphQLContext, 'principal'>;

function principalOf(value: unknown): string {
  return typeof value === 'string' && /^[\w.@:-]{1,128}$/.test(value) ? value : 'anonymous';
}

/**
 * The GraphQL endpoint: graphql-yoga over the Pothos schema for HTTP and SSE, graphql-ws for
 * WebSocket subscriptions through yoga's envelop (so validation and error masking apply to both).
 */
export function createGraphQLServer(base: BaseContext, logger: Logger): GraphQLServer {
  const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
    schema: buildSchema(),
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    graphiql: { title: 'ALL-USE Learning', subscriptionsProtocol: 'WS' },
    context: ({ request }) => ({ ...base, principal: principalOf(request.headers.get(PRINCIPAL_HEADER)) }),
    // Bounds on what one operation may ask (depth, aliases, directives, cost, tokens), applied to
    // WebSocket operations too (they pass through the same envelop). Field suggestions stay on: this
    // API serves the platform's own services, and "did you mean" names the field.
    plugins: [
      EnvelopArmorPlugin({
        blockFieldSuggestion: { enabled: false },
        maxTokens: { n: 50_000 },
      }),
    ],
    maskedErrors: {
      maskError(error, message, isDev) {
        const exposed = exposeError(error);
        if (exposed) return exposed;
        logger.error({ err: error }, 'GraphQL resolver failed');
        return maskError(error, message, isDev);
      },
    },
    logging: {
      debug: (...args) => logger.debug({ args }, 'graphql'),
      info: (...args) => logger.info({ args }, 'graphql'),
      warn: (...args) => logger.warn({ args }, 'graphql'),
      error: (...args) => logger.error({ args }, 'graphql'),
    },
  });

  let wss: WebSocketServer | null = null;
  let disposeWs: (() => void | Promise<void>) | null = null;

  return {
    async handle(req, res) {
      await yoga.requestListener(req, res);
    },
    attach(server) {
      wss = new WebSocketServer({ server, path: GRAPHQL_PATH });
      const handler = useServer<Record<string, unknown>, { request: IncomingMessage }>(
        {
          execute: (args) => (args.rootValue as Envelope).execute(args),
          subscribe: (args) => (args.rootValue as Envelope).subscribe(args),
          onSubscribe: async (ctx, _id, params) => {
            // Each operation on a socket holds a log subscription: a bound keeps one client from
            // holding thousands. (The operation being subscribed is already counted.)
            if (Object.keys(ctx.subscriptions).length > MAX_OPERATIONS_PER_SOCKET)
              return [
                new GraphQLError(
                  `at most ${MAX_OPERATIONS_PER_SOCKET} operations at once on one connection: complete some first`,
                  { extensions: { code: 'TOO_MANY_OPERATIONS' } },
                ),
              ];
            const request = ctx.extra.request;
            const enveloped = yoga.getEnveloped({
              ...ctx,
              req: request,
              socket: ctx.extra.socket,
              params,
              // Browsers cannot set headers on a WebSocket: the principal may come in the connection parameters.
              request: {
                headers: new Headers({
                  [PRINCIPAL_HEADER]: String(
                    request.headers[PRINCIPAL_HEADER] ??
                      (ctx.connectionParams as { principal?: unknown } | undefined)?.principal ??
                      '',
                  ),
                }),
              },
            });
            let document: ExecutionArgs['document'];
            try {
              document = enveloped.parse(params.query);
            } catch (error) {
              // A syntax error ends this operation with an error message, not the whole socket.
              return [
                error instanceof GraphQLError ? error : new GraphQLError('the query could not be parsed'),
              ];
            }
            const args: ExecutionArgs = {
              schema: enveloped.schema,
              operationName: params.operationName,
              document,
              variableValues: params.variables,
              contextValue: await enveloped.contextFactory(),
              rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
            };
            const errors = enveloped.validate(args.schema, args.document);
            return errors.length ? errors : args;
          },
        },
        wss,
      );
      disposeWs = () => handler.dispose();
    },
    async close() {
      await disposeWs?.();
      for (const client of wss?.clients ?? []) client.terminate();
      await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
    },
  };
}

interface Envelope {
  execute(args: ExecutionArgs): ReturnType<NonNullable<Parameters<typeof useServer>[0]['execute']>>;
  subscribe(args: ExecutionArgs): ReturnType<NonNullable<Parameters<typeof useServer>[0]['subscribe']>>;
}
