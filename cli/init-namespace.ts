import type { ConnectionLike } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../schemas/search-attributes';

const { IndexedValueType } = temporal.api.enums.v1;
const TYPES: Record<(typeof SEARCH_ATTRIBUTES)[keyof typeof SEARCH_ATTRIBUTES], temporal.api.enums.v1.IndexedValueType> = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
};

/**
 * `r1 init-namespace`: registers the product's search attributes (schemas/search-attributes.ts)
 * in the namespace, once per cluster; those already there are left as they are. An attribute of
 * the same name and another type is an error no registration can fix: it is named.
 */
export async function registerSearchAttributes(connection: ConnectionLike, namespace: string): Promise<{ added: string[]; present: string[] }> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const present: string[] = [];
  const missing: Record<string, temporal.api.enums.v1.IndexedValueType> = {};
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
    const existing = customAttributes?.[name];
    if (existing === undefined || existing === null) missing[name] = TYPES[type];
    else if (existing !== TYPES[type]) throw new Error(`search attribute ${name} exists in namespace ${namespace} as ${IndexedValueType[existing]}, not ${type}: rename or remove it first`);
    else present.push(name);
  }
  if (Object.keys(missing).length > 0) await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  return { added: Object.keys(missing), present };
}
