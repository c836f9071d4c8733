import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabNames, LabUsageError, checkLabId } from '../src/index.js';
import { nodeIndexOf } from '../src/names.js';

test('every kernel name carries the lab prefix; link names fit in 15 characters', () => {
  const n = new LabNames('abc123');
  assert.equal(n.prefix, 'ctlab-abc123');
  assert.equal(n.fabricNs, 'ctlab-abc123-fab');
  assert.equal(n.nodeNs(3), 'ctlab-abc123-n3');
  assert.equal(n.pod(3, 2).netns, 'ctlab-abc123-n3-p2');
  for (const ns of [n.fabricNs, n.nodeNs(1), n.pod(1, 1).netns]) assert.ok(n.owns(ns), ns);
  assert.ok(!n.owns('ctlab-abc1234-n1'), 'a lab whose name extends ours is not ours');
  assert.ok(!n.owns('cfx-abc123-n1'));
  assert.ok(new LabNames('abcdefghij').tempLink(200).length <= 15);
  assert.equal(nodeIndexOf(n, 'ctlab-abc123-n12'), 12);
  assert.equal(nodeIndexOf(n, 'ctlab-abc123-n1-p1'), undefined);
  // --engine kubernetes: the control plane's namespace is the lab's, and no node's.
  assert.equal(n.controlPlaneNs, 'ctlab-abc123-cp');
  assert.ok(n.owns(n.controlPlaneNs));
  assert.equal(nodeIndexOf(n, n.controlPlaneNs), undefined);
  assert.ok(new LabNames('abcdefghij').controlPlaneTempLink.length <= 15);
  assert.notEqual(new LabNames('abcdefghij').controlPlaneTempLink, new LabNames('abcdefghij').tempLink(1));
});

test('fabric addresses: one stable /24 per lab name, node i at .i, gateway .254', () => {
  const n = new LabNames('demo');
  assert.equal(n.octet, new LabNames('demo').octet);
  assert.ok(n.octet >= 1 && n.octet <= 250);
  assert.equal(n.nodeAddress(2), `172.31.${n.octet}.2`);
  assert.equal(n.gateway, `172.31.${n.octet}.254`);
  // The control plane sits above every node (at most 200) and below the external host and gateway.
  assert.equal(n.controlPlaneAddress, `172.31.${n.octet}.250`);
});

test('pods alternate between the frontend and backend namespaces with app and pod labels', () => {
  const n = new LabNames('x');
  assert.deepEqual(
    [1, 2, 3].map((j) => n.pod(2, j)).map((p) => [p.namespace, p.name, p.labels.app, p.labels.pod, p.node]),
    [
      ['frontend', 'web-2-1', 'web', 'web-2-1', 'node-2'],
      ['backend', 'db-2-2', 'db', 'db-2-2', 'node-2'],
      ['frontend', 'web-2-3', 'web', 'web-2-3', 'node-2'],
    ],
  );
});

test('lab names are short lowercase words', () => {
  assert.equal(checkLabId('demo'), 'demo');
  for (const bad of ['', 'Demo', 'a-b', 'abcdefghijk', 'a/b']) assert.throws(() => checkLabId(bad), LabUsageError, bad);
});
