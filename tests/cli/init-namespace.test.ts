import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { registerSearchAttributes } from '../../cli/init-namespace';
import { PrivateStack } from '../../infra/local/private-stack';
import { SEARCH_ATTRIBUTES } from '../../schemas/search-attributes';

/**
 * `r1 init-namespace` on a namespace that has none of the product's search attributes, as a new
 * cluster's has: a Temporal server of the test's own, in a namespace registered for the test.
 */
let stack: PrivateStack;
const register = (namespace: string) =>
  connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
let connection: Connection;

before(async () => {
  stack = await PrivateStack.start(13000);
  connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS });
});

after(async () => {
  await connection?.close();
  await stack?.stop();
});

test('registers the search attributes a new namespace lacks, once; a clash of types is named', async () => {
  const namespace = 'r1-fresh';
  await register(namespace);
  const custom = async () => (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  assert.deepEqual(Object.keys(await custom()).filter((name) => name in SEARCH_ATTRIBUTES), []);

  assert.deepEqual(await registerSearchAttributes(connection, namespace), { added: Object.keys(SEARCH_ATTRIBUTES), present: [] });
  const { IndexedValueType } = temporal.api.enums.v1;
  const registered = await custom();
  assert.equal(registered.R1Step, IndexedValueType.INDEXED_VALUE_TYPE_INT);
  assert.equal(registered.R1Pipeline, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
  assert.deepEqual(await registerSearchAttributes(connection, namespace), { added: [], present: Object.keys(SEARCH_ATTRIBUTES) });

  const clash = 'r1-clash';
  await register(clash);
  await connection.operatorService.addSearchAttributes({ namespace: clash, searchAttributes: { R1Step: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD } });
  await assert.rejects(registerSearchAttributes(connection, clash), /search attribute R1Step exists in namespace r1-clash as INDEXED_VALUE_TYPE_KEYWORD, not Int/);
});
