/**
 * SPEC §6: every URL the server fetches is checked as an address after WHATWG URL parsing, not as
 * a string. Each refused form is written the way an attacker would write it.
 */
import { describe, expect, it } from "vitest";
import { fetchUrlProblem, isLoopbackForCredentials, isLoopbackHostname, LOCAL_DEV_ADDRESSES, PUBLIC_ADDRESSES } from "../../src/core/addresses.js";

const deployed = PUBLIC_ADDRESSES;
const localDev = LOCAL_DEV_ADDRESSES;

describe("fetchUrlProblem outside local dev", () => {
  it("accepts https URLs on public names and public IP literals", () => {
    for (const uri of ["https://keys.example/jwks.json", "https://8.8.8.8/jwks", "https://[2606:4700::1111]/jwks", "https://keys.example:8443/a?b=c"]) {
      expect(fetchUrlProblem(uri, deployed), uri).toBeUndefined();
    }
  });

  const refused = [
    // loopback, spelt every way WHATWG normalises
    "https://127.0.0.1/", "https://127.0.0.2/", "https://0x7f.1/", "https://2130706433/", "https://0177.0.0.1/", "https://[::1]/",
    "https://[::ffff:127.0.0.1]/", "https://[::ffff:7f00:1]/", "https://[0:0:0:0:0:ffff:7f00:1]/",
    // names
    "https://localhost/", "https://LOCALHOST/", "https://foo.localhost/", "https://localhost./", "https://keys.example./",
    // unspecified
    "https://0.0.0.0/", "https://0/", "https://[::]/",
    // private (RFC 1918), CGNAT, link-local (metadata services), ULA, mapped forms of them
    "https://10.0.0.1/", "https://172.16.5.4/", "https://172.31.255.255/", "https://192.168.1.1/", "https://100.64.0.1/",
    "https://169.254.169.254/latest/meta-data/", "https://[fe80::1]/", "https://[fd00::1]/", "https://[fc00::1]/",
    "https://[::ffff:a9fe:a9fe]/", "https://[::ffff:10.0.0.1]/", "https://[::ffff:192.168.0.1]/",
    // documentation, benchmarking, multicast, reserved, broadcast, NAT64, 6to4
    "https://192.0.2.1/", "https://198.18.0.1/", "https://224.0.0.1/", "https://255.255.255.255/", "https://[ff02::1]/",
    "https://[64:ff9b::7f00:1]/", "https://[2002:7f00:1::]/", "https://[2001:db8::1]/",
    // not https, credentials, not a URL
    "http://keys.example/jwks.json", "ftp://keys.example/jwks", "https://user:pw@keys.example/", "not a url",
  ];
  for (const uri of refused) {
    it(`refuses ${uri}`, () => {
      expect(fetchUrlProblem(uri, deployed)).toEqual(expect.any(String));
    });
  }
});

describe("fetchUrlProblem in local dev", () => {
  it("accepts http and https to loopback hosts", () => {
    for (const uri of ["http://127.0.0.1:9000/jwks", "http://localhost:9000/jwks", "http://[::1]:9000/jwks", "https://127.0.0.1/jwks"]) {
      expect(fetchUrlProblem(uri, localDev), uri).toBeUndefined();
    }
  });

  it("still refuses private, link-local and plain-http public addresses", () => {
    for (const uri of ["http://keys.example/jwks", "https://169.254.169.254/", "https://10.0.0.1/", "http://192.168.1.1/"]) {
      expect(fetchUrlProblem(uri, localDev), uri).toEqual(expect.any(String));
    }
  });
});

describe("isLoopbackHostname", () => {
  it("knows loopback from everything else", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "a.localhost", "[::1]", "[::ffff:7f00:1]"]) expect(isLoopbackHostname(host), host).toBe(true);
    for (const host of ["128.0.0.1", "10.0.0.1", "example.com", "localhost.example", "[::2]", "[fe80::1]"]) expect(isLoopbackHostname(host), host).toBe(false);
  });
});

describe("isLoopbackForCredentials (the CLI's plain-http rule)", () => {
  it("is isLoopbackHostname without *.localhost and IPv4-mapped addresses, whose routing depends on the operator's system", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "[::1]"]) expect(isLoopbackForCredentials(host), host).toBe(true);
    for (const host of ["a.localhost", "[::ffff:7f00:1]", "128.0.0.1", "0.0.0.0", "example.com", "localhost.example", "127.0.0.1.nip.io", "[::2]"]) {
      expect(isLoopbackForCredentials(host), host).toBe(false);
    }
    // Read from URL.hostname, as the CLI does: WHATWG parsing normalises the forms first.
    expect(isLoopbackForCredentials(new URL("http://[::ffff:127.0.0.1]:8787").hostname)).toBe(false);
    expect(isLoopbackForCredentials(new URL("http://127.1:8787").hostname)).toBe(true);
  });
});
