/**
 * `kubectl get` columns for admissionregistration.k8s.io/v1 webhook configurations
 * (printers.go printMutatingWebhook / printValidatingWebhook: NAME, WEBHOOKS, AGE).
 */
import type { TableConvertor } from '../types.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col } from './format.ts';

export const webhookConfigurationTable: TableConvertor = {
  columns: [NAME_COLUMN, col('Webhooks', 'integer', false, 'Webhooks indicates the number of webhooks in the configuration'), AGE_COLUMN],
  cells: (c, now) => [c.metadata.name, Array.isArray(c.webhooks) ? c.webhooks.length : 0, age(c, now)],
};
