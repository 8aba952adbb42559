import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { type ExecutionArgs, GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, maskError } from 'graphql-yoga';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { AccessGate } from '../auth/gate.js';
import type { Principal } from '../domain/auth/roles.js';
import type { GraphQLContext } from '../schema/context.js';
import { exposeError } from '../schema/errors.js';
import { buildSchema } from '../schema/index.js';
import { literalPathsPlugin } from './literal-paths.js';

export const GRAPHQL_PATH = '/graphql';
/** Operations (mostly subscriptions) one WebSocket connection may have running at once. */
export const MAX_OPERATIONS_PER_SOCKET = 100;

export interface GraphQLServer {
  /** Serves HTTP (queries, mutations, subscriptions over SSE) on `/graphql`. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Serves graphql-ws subscriptions on the same port and path. */
  attach(server: Server): void;
  close(): Promise<void>;
}

type BaseContext = Omit<GraphQLContext, 'caller' | 'refusals'>;

export interface GraphQLOptions {
  /** Admits requests and connections: it has authenticated the caller before the context is built. */
  readonly gate: AccessGate;
  /** Origins allowed to call from a browser (CORS_ORIGINS); empty: none, `*`: any, without credentials. */
  readonly corsOrigins: readonly string[];
  readonly introspection: boolean;
  readonly graphiql: boolean;
}

/** The CORS answer: an allow-list, never a reflection of whatever origin asks. */
function corsOf(origins: readonly string[]) {
  if (origins.length === 0) return false as const;
  if (origins.includes('*')) return { origin: '*', credentials: false };
  return { origin: [...origins], credentials: true };
}

/**
 * The GraphQL endpoint: graphql-yoga over the Pothos schema for HTTP and SSE, graphql-ws for
 * WebSocket subscriptions through yoga's envelop (so validation and error masking apply to both).
 * Who asks comes from the access gate (HTTP) or the connection's parameters (WebSocket), never from a
 * header a client may set to anything.
 */
export function createGraphQLServer(
  base: BaseContext,
  options: GraphQLOptions,
  logger: Logger,
): GraphQLServer {
  const { gate } = options;
  const yoga = createYoga<{ req?: IncomingMessage; caller?: Principal }, GraphQLContext>({
    schema: buildSchema(),
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    cors: corsOf(options.corsOrigins),
    graphiql: options.graphiql ? { title: 'ALL-USE Learning', subscriptionsProtocol: 'WS' } : false,
    context: ({ req, caller }) => ({
      ...base,
      refusals: gate.refusals,
      caller: caller ?? gate.callerOf(req as object),
    }),
    // Bounds on what one operation may ask (depth, aliases, directives, cost, tokens), applied to
    // WebSocket operations too (they pass through the same envelop). Field suggestions stay on: this
    // API serves the platform's own services, and "did you mean" names the field.
    plugins: [
      EnvelopArmorPlugin({
        blockFieldSuggestion: { enabled: false },
        maxTokens: { n: 50_000 },
        // A connection's cost is multiplied by its `first`/`last`: a page of 500 small nodes fits.
        costLimit: { maxCost: 20_000 },
      }),
      literalPathsPlugin,
      ...(options.introspection
        ? []
        : [
            {
              onValidate: ({ addValidationRule }: { addValidationRule(rule: unknown): void }) =>
                addValidationRule(NoSchemaIntrospectionCustomRule),
            },
          ]),
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
      const handler = useServer<Record<string, unknown>, { request: IncomingMessage; caller?: Principal }>(
        {
          // Credentials come once, in the connection parameters, and are checked before any operation:
          // wrong ones close the socket (4403); none leave an unauthenticated caller the schema refuses.
          onConnect: async (ctx) => {
            const admission = await gate.admitConnection(ctx.connectionParams, ctx.extra.request);
            if ('refusal' in admission) return false;
            ctx.extra.caller = admission.caller;
            return true;
          },
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
            const caller = ctx.extra.caller;
            if (!caller)
              return [new GraphQLError('not admitted', { extensions: { code: 'UNAUTHENTICATED' } })];
            const limited = gate.limit(caller, 'WS subscribe');
            if (limited)
              return [
                new GraphQLError(limited.message, {
                  extensions: { code: limited.code, retryAfterSeconds: limited.retryAfterSeconds },
                }),
              ];
            const enveloped = yoga.getEnveloped({
              ...ctx,
              req: ctx.extra.request,
              caller,
              socket: ctx.extra.socket,
              params,
              request: { headers: new Headers() },
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
