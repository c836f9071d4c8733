import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TlsIdentityError, checkTyphaIdentity } from '../../src/client/index.js';

describe('checkTyphaIdentity', () => {
  const cert = {
    subject: { CN: 'typha-server' } as never,
    subjectaltname: 'DNS:typha.calico-system.svc, URI:spiffe://cluster.local/ns/calico-system/sa/typha, IP Address:10.0.0.11',
  };

  it('accepts the expected CN or URI SAN', () => {
    assert.equal(checkTyphaIdentity({ cn: 'typha-server' }, cert), undefined);
    assert.equal(checkTyphaIdentity({ uriSan: 'spiffe://cluster.local/ns/calico-system/sa/typha' }, cert), undefined);
    assert.equal(checkTyphaIdentity({ cn: 'other', uriSan: 'spiffe://cluster.local/ns/calico-system/sa/typha' }, cert), undefined);
  });

  it('rejects a certificate with neither, saying what it wanted and got', () => {
    const err = checkTyphaIdentity({ cn: 'typha', uriSan: 'spiffe://x' }, cert);
    assert.ok(err instanceof TlsIdentityError);
    assert.equal(
      err.message,
      'typha server certificate does not match: want CN "typha" or URI SAN "spiffe://x", got CN "typha-server"; URI SANs "spiffe://cluster.local/ns/calico-system/sa/typha"',
    );
  });

  it('does not take a DNS SAN for a URI SAN or a CN', () => {
    assert.ok(checkTyphaIdentity({ uriSan: 'typha.calico-system.svc' }, cert) instanceof TlsIdentityError);
    assert.ok(checkTyphaIdentity({ cn: 'typha.calico-system.svc' }, cert) instanceof TlsIdentityError);
  });

  it('judges a subject with several CNs by its last, as Calico (Go’s Subject.CommonName)', () => {
    assert.equal(checkTyphaIdentity({ cn: 'typha' }, { subject: { CN: ['intruder', 'typha'] } }), undefined);
    assert.ok(checkTyphaIdentity({ cn: 'typha' }, { subject: { CN: ['typha', 'intruder'] } }) instanceof TlsIdentityError);
  });

  it('handles a certificate without subject or SANs', () => {
    assert.ok(checkTyphaIdentity({ cn: 'typha' }, { subject: undefined, subjectaltname: undefined }) instanceof TlsIdentityError);
  });
});
