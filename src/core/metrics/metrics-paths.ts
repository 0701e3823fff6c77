// `sys/metrics`: the vault's telemetry, as Prometheus text (`?format=prometheus`) or go-metrics'
// JSON. Needs a token with `read` on sys/metrics, unless the server's config sets the listener's
// `telemetry { unauthenticated_metrics_access = true }`, as Vault's does.
import { z } from 'zod';
import { BadRequestError } from '../../errors';
import type { PathDefinition } from '../framework';
import type { VaultMetrics } from './vault-metrics';

/** How the sys/metrics path is served. */
export interface MetricsPathOptions {
  metrics: VaultMetrics;
  /** False when the config turns metrics off (telemetry `prometheus_retention_time = 0`). */
  enabled: boolean;
  /** Served without a token (listener telemetry `unauthenticated_metrics_access`). */
  unauthenticatedAccess: boolean;
}

const metricsFields = z.object({
  format: z.enum(['', 'prometheus']).optional().describe('"prometheus" for the Prometheus text format; empty or absent for JSON (Gauges, Counters, Samples)'),
});

export function metricsPaths(options: MetricsPathOptions): PathDefinition[] {
  return [
    {
      pattern: 'metrics',
      description: 'Telemetry: Vault\'s metric names and Leasehold\'s own (leasehold_*), as Prometheus text with format=prometheus, else JSON.',
      unauthenticated: options.unauthenticatedAccess,
      fields: metricsFields,
      operations: {
        read: async (req) => {
          if (!options.enabled) throw new BadRequestError('metrics are turned off (telemetry prometheus_retention_time = 0)');
          const { format } = req.fields as z.infer<typeof metricsFields>;
          if (format === 'prometheus') {
            return { raw: { statusCode: 200, body: await options.metrics.prometheus(), contentType: options.metrics.prometheusContentType } };
          }
          return { raw: { statusCode: 200, body: await options.metrics.json() } };
        },
      },
    },
  ];
}
