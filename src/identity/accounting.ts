import { keyFromBytes, MIN_IPV6_PREFIX } from './address-key.js';
import { ATTR, RadiusFormatError, type RadiusPacket } from './radius-codec.js';

/** Which attribute's value names a webfilter group (`identity.group_attribute`). */
export type GroupAttribute = 'filter-id' | 'class' | 'none';

/** What one verified Accounting-Request says about who is where. */
export interface AccountingRecord {
  /** The NAS's address (the packet's source, whose secret verified it). */
  nas: string;
  /** Acct-Status-Type (RFC 2866 §5.1). */
  status: number;
  user: string | null;
  /** Acct-Session-Id. */
  session: string | null;
  /** Calling-Station-Id, as aa:bb:cc:dd:ee:ff when it is a MAC address. */
  mac: string | null;
  /** Address keys: Framed-IP-Address, Framed-IPv6-Address (RFC 6911), Framed-IPv6-Prefix (RFC 3162). */
  addresses: string[];
  /** Values of the group attribute, in packet order (the first naming a configured group is used). */
  groups: string[];
}

/** Longest text kept from an attribute (the wire allows 253 octets). */
const MAX_TEXT = 128;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the accounting facts from a verified Accounting-Request. Throws RadiusFormatError when a
 * known attribute has the wrong size (a 3-octet Framed-IP-Address, a 17-octet IPv6 address) or
 * Acct-Status-Type is missing.
 */
export function readAccounting(p: RadiusPacket, nas: string, groupAttribute: GroupAttribute): AccountingRecord {
  const r: AccountingRecord = { nas, status: -1, user: null, session: null, mac: null, addresses: [], groups: [] };
  const groupType = groupAttribute === 'filter-id' ? ATTR.FILTER_ID : groupAttribute === 'class' ? ATTR.CLASS : -1;
  for (const { type, value } of p.attributes) {
    switch (type) {
      case ATTR.ACCT_STATUS_TYPE:
        if (value.length !== 4) throw new RadiusFormatError(`Acct-Status-Type of ${value.length} octets`);
        r.status = value.readUInt32BE(0);
        break;
      case ATTR.USER_NAME:
        r.user ??= text(value);
        break;
      case ATTR.ACCT_SESSION_ID:
        r.session ??= text(value);
        break;
      case ATTR.CALLING_STATION_ID:
        r.mac ??= macAddress(value);
        break;
      case ATTR.FRAMED_IP_ADDRESS: {
        if (value.length !== 4) throw new RadiusFormatError(`Framed-IP-Address of ${value.length} octets`);
        // 255.255.255.255 and 255.255.255.254 are instructions ("user/NAS chooses"), not addresses (RFC 2865 §5.8).
        if (value[0] === 255 && value[1] === 255 && value[2] === 255 && value[3] >= 254) break;
        r.addresses.push(keyFromBytes(4, value, 32).key);
        break;
      }
      case ATTR.FRAMED_IPV6_ADDRESS:
        if (value.length !== 16) throw new RadiusFormatError(`Framed-IPv6-Address of ${value.length} octets`);
        r.addresses.push(keyFromBytes(6, value, 128).key);
        break;
      case ATTR.FRAMED_IPV6_PREFIX: {
        // Reserved(1) Prefix-Length(1) Prefix(0-16): at least the octets the length covers (RFC 3162 §2.3).
        if (value.length < 2 || value.length > 18) throw new RadiusFormatError(`Framed-IPv6-Prefix of ${value.length} octets`);
        const len = value[1];
        if (len > 128 || value.length - 2 < Math.ceil(len / 8))
          throw new RadiusFormatError(`Framed-IPv6-Prefix /${len} in ${value.length - 2} octets`);
        if (len < MIN_IPV6_PREFIX) break; // too wide to name one person: ignored
        const bytes = new Uint8Array(16);
        bytes.set(value.subarray(2));
        r.addresses.push(keyFromBytes(6, bytes, len).key);
        break;
      }
      default:
        if (type === groupType) {
          const g = text(value);
          if (g !== null && g !== '') r.groups.push(g);
        }
    }
  }
  if (r.status < 0) throw new RadiusFormatError('no Acct-Status-Type');
  return r;
}

/**
 * UTF-8 text with control characters replaced (the value reaches logs and pages), cut to MAX_TEXT;
 * null when the octets are not valid UTF-8 (e.g. the binary Class that NPS adds of its own).
 */
function text(value: Buffer): string | null {
  let s: string;
  try {
    s = UTF8.decode(value);
  } catch {
    return null;
  }
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, MAX_TEXT);
}

/** "AA-BB-CC-DD-EE-FF", "aabb.ccdd.eeff", "AABBCCDDEEFF" → "aa:bb:cc:dd:ee:ff"; other text as it is. */
function macAddress(value: Buffer): string | null {
  const s = text(value);
  if (s === null) return null;
  const hex = s.toLowerCase().replace(/[^0-9a-f]/g, '');
  if (hex.length === 12 && /^[0-9a-f]{2}([-:.]?[0-9a-f]{2}){5}$|^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i.test(s))
    return hex.match(/../g)!.join(':');
  return s;
}
