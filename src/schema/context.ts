import type { AlertManager } from '../alerting/manager.js';
import type { CollectionAgent } from '../collection/agent.js';
import type { AnalyticsStore } from '../stores/clickhouse/client.js';
import type { EventStore } from '../stores/event-store/port.js';

/** What every resolver can reach: the ports, the actors it may command, and who is asking. */
export interface GraphQLContext {
  readonly events: EventStore;
  readonly analytics: AnalyticsStore;
  /** Null when no alert rules are configured. */
  readonly alertManager: AlertManager | null;
  /** The agent behind the `ingestMetrics` mutation. */
  readonly ingestAgent: CollectionAgent;
  /** Who asked (recorded on the facts a mutation causes). */
  readonly principal: string;
}
