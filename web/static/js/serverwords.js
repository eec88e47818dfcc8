// serverwords.js: the server's English words the page shows, in Vietnamese.
// Some texts reach the page in English only: a finding's band ("within
// 500 m of the component") and legal basis ("Law 25/2023/QH15 art. 17(1)"),
// and the reasons of a problem+json answer ("a polygon ring needs at least
// 4 points"). Where the server sends a Vietnamese text (band_vi, basis_vi,
// or a {vi, en} object), the page uses it; otherwise it words the texts it
// knows here, by pattern, and shows any other as the server wrote it,
// marked as the server's (so an unknown English text is never passed off
// as a translation).

/** PROBLEM_CODES are the problem+json codes (internal/zone Code); i18n.js words each as problem.<code>. */
export const PROBLEM_CODES = ['invalid', 'not_found', 'conflict', 'forbidden', 'unauthorized', 'unavailable',
  'too_large', 'limit', 'rate_limited', 'storage_full', 'internal'];

/** ZONE_WORDS names the zones of a band ("the restricted area") in Vietnamese. */
const ZONE_WORDS = {
  'the component itself': 'chính công trình',
  'the border belt': 'vành đai biên giới',
  'the restricted area': 'khu vực cấm',
  'the protected area': 'khu vực bảo vệ',
  'the safety belt': 'vành đai an toàn',
};

function zoneWords(where) {
  if (ZONE_WORDS[where]) return ZONE_WORDS[where];
  const m = /^([\d.,]+) m of the component$/.exec(where);
  if (m) return `vùng ${m[1]} m quanh công trình`;
  return null;
}

/**
 * BANDS are the bands internal/check writes (result.go, band): where the
 * footprint is relative to the zone a rule tested.
 */
const BANDS = [
  [/^overlapping the component itself$/, () => 'chồng lấn chính công trình'],
  [/^within ([\d.,]+) m of the component$/, (m) => `trong phạm vi ${m[1]} m quanh công trình`],
  [/^outside, within ([\d.,]+) m of the edge of (.*)$/, (m) => {
    const z = zoneWords(m[2]);
    return z ? `bên ngoài, cách ranh giới ${z} dưới ${m[1]} m` : null;
  }],
  [/^within (.*)$/, (m) => {
    const z = zoneWords(m[1]);
    return z ? `trong ${z}` : null;
  }],
];

/** BASIS_PHRASES are the explanations in brackets of the default rule set's legal bases. */
const BASIS_PHRASES = {
  'defence works and military zones': 'công trình quốc phòng và khu quân sự',
  'depot safety radius': 'bán kính an toàn của kho',
  '500 m technical corridor of a military antenna field': 'hành lang kỹ thuật 500 m của trận địa ăng-ten quân sự',
  'border restricted zones': 'vùng cấm biên giới',
  'border markers and works': 'mốc quốc giới và công trình biên giới',
  'protection of border markers and works': 'bảo vệ mốc quốc giới và công trình biên giới',
  'border belt': 'vành đai biên giới',
  'opinions of the Ministries of Defence, Public Security, Foreign Affairs': 'ý kiến của Bộ Quốc phòng, Bộ Công an, Bộ Ngoại giao',
  'border area: communes adjoining the land border': 'khu vực biên giới: các xã tiếp giáp đường biên giới đất liền',
  'defence opinion on projects near defensive-zone components': 'ý kiến quốc phòng về dự án gần các thành phần của khu vực phòng thủ',
  'command posts of the defensive zone': 'sở chỉ huy của khu vực phòng thủ',
  'commune military command headquarters': 'trụ sở Ban chỉ huy quân sự cấp xã',
  'border patrol routes': 'đường tuần tra biên giới',
  'defence works may not be positioned or published': 'không được định vị, công bố công trình quốc phòng',
  'opinion of the military authority': 'ý kiến của cơ quan quân sự',
};

/** BASIS_WHOLE are legal bases that are not citations. */
const BASIS_WHOLE = {
  'Survey and datum tolerance (VN-2000 / WGS84), zoneplan practice': 'Dung sai đo đạc và hệ quy chiếu (VN-2000 / WGS84), thực tiễn của zoneplan',
};

/**
 * citation words one legal citation ("Decree 34/2014/ND-CP art. 13",
 * "Law on National Borders 2003 art. 17") in Vietnamese, or null.
 */
function citation(text) {
  let s = text.trim();
  const acts = [
    [/^Law on National Borders (\d{4})/, (m) => `Luật Biên giới quốc gia ${m[1]}`],
    [/^Law on National Defence (\d{4})/, (m) => `Luật Quốc phòng ${m[1]}`],
    [/^Law (\S+)/, (m) => `Luật ${m[1]}`],
    [/^Decree (\S+)/, (m) => `Nghị định ${m[1].replace(/ND-CP/, 'NĐ-CP')}`],
    [/^Circular (\S+)/, (m) => `Thông tư ${m[1]}`],
    [/^Decision (\S+)/, (m) => `Quyết định ${m[1].replace(/QD-/, 'QĐ-')}`],
  ];
  let out = null;
  for (const [re, fn] of acts) {
    const m = re.exec(s);
    if (m) {
      out = fn(m);
      s = s.slice(m[0].length);
      break;
    }
  }
  if (out === null) return null;
  // The articles: "art. 17(1), art. 18", "art. 17-18"; nothing else may remain.
  const articles = [];
  const rest = s.replace(/\s*,?\s*art\. ([\d()\-–]+)/g, (m, n) => {
    articles.push(`Điều ${n}`);
    return '';
  });
  if (rest.trim()) return null;
  return [out, ...articles].join(', ');
}

/** basisVI words a legal basis in Vietnamese, or null when a part of it is unknown. */
function basisVI(text) {
  const parts = text.split(/;\s*/);
  const out = [];
  for (const part of parts) {
    if (BASIS_WHOLE[part]) {
      out.push(BASIS_WHOLE[part]);
      continue;
    }
    const m = /^(.*?)\s+\(([^()]*)\)$/.exec(part);
    const cite = citation(m ? m[1] : part);
    if (cite === null) return null;
    if (m) {
      const phrase = BASIS_PHRASES[m[2]];
      if (!phrase) return null;
      out.push(`${cite} (${phrase})`);
    } else {
      out.push(cite);
    }
  }
  return out.join('; ');
}

/**
 * REASONS are the reasons of the server's problems (internal/zone
 * geometry.go, internal/check footprint.go, internal/httpapi) that the
 * page words in Vietnamese.
 */
const REASONS = [
  [/^geometry is missing$/, () => 'thiếu hình học'],
  [/^coordinate is not a number$/, () => 'toạ độ không phải là số'],
  [/^coordinate \[([^\]]*)\] is outside longitude -180\.\.180, latitude -90\.\.90/, (m) => `toạ độ [${m[1]}] nằm ngoài kinh độ -180..180, vĩ độ -90..90 (có phải toạ độ ở hệ khác?)`],
  [/^a line needs at least 2 points, has (\d+)$/, (m) => `tuyến cần ít nhất 2 điểm, hiện có ${m[1]}`],
  [/^a polygon ring needs at least 4 points \(3 distinct, closed\), has (\d+)$/, (m) => `vòng ranh giới của vùng cần ít nhất 4 điểm (3 điểm khác nhau, khép kín), hiện có ${m[1]}`],
  [/^ring is not closed: first point (.*) differs from last (.*)$/, (m) => `vòng ranh giới chưa khép kín: điểm đầu ${m[1]} khác điểm cuối ${m[2]}`],
  [/^polygon is empty$/, () => 'vùng rỗng'],
  [/^geometry is empty$/, () => 'hình học rỗng'],
  [/^ring intersects itself.*\(at or near \{([^}]*)\}\)/, (m) => `vòng ranh giới tự cắt (các cạnh cắt nhau) tại hoặc gần điểm ${m[1]}`],
  [/^ring intersects itself/, () => 'vòng ranh giới tự cắt (các cạnh cắt nhau)'],
  [/^invalid geometry/, () => 'hình học không hợp lệ'],
  [/^geometry type (\S+) is not supported/, (m) => `không hỗ trợ kiểu hình học ${m[1]} (dùng Point, LineString, Polygon hoặc dạng Multi của chúng)`],
  [/^geometry has (\d+) vertices, more than the (\d+) allowed$/, (m) => `hình có ${m[1]} đỉnh, vượt quá ${m[2]} đỉnh cho phép`],
  [/^the request has (\d+) vertices in all, more than the (\d+) allowed$/, (m) => `yêu cầu có tổng cộng ${m[1]} đỉnh, vượt quá ${m[2]} đỉnh cho phép`],
  [/^(\d+) features, more than the (\d+) allowed in one check$/, (m) => `${m[1]} đối tượng, vượt quá ${m[2]} đối tượng cho phép trong một lần kiểm tra`],
  [/^the feature has no geometry$/, () => 'đối tượng không có hình học'],
  [/^the FeatureCollection has no features$/, () => 'FeatureCollection không có đối tượng nào'],
  [/^height_m must be between 0 and 10000 metres, got (.*)$/, (m) => `chiều cao phải từ 0 đến 10 000 m, nhận được ${m[1]}`],
  [/^height_m must be a number of metres/, () => 'chiều cao phải là một số (mét)'],
  [/^the footprint is not valid GeoJSON for a check$/, () => 'phạm vi không phải là GeoJSON hợp lệ để kiểm tra'],
  [/^internal error \(request (\S+)\)$/, (m) => `lỗi nội bộ (mã yêu cầu ${m[1]})`],
  [/^approval with conditions needs a note stating the conditions$/, () => 'chấp thuận có điều kiện cần ghi chú nêu các điều kiện'],
  [/^outcome "(.*)": want approved/, (m) => `quyết định “${m[1]}” không hợp lệ: chọn chấp thuận, chấp thuận có điều kiện hoặc không chấp thuận`],
];

/**
 * localizePointer words a problem's pointer ("geometry.coordinates[0][5]")
 * in Vietnamese: ring and vertex numbers as the user counts them.
 */
export function localizePointer(pointer, lang) {
  if (lang !== 'vi' || !pointer) return pointer || '';
  const p = String(pointer).replace(/^geometry\./, '');
  let m = /^coordinates\[(\d+)\]\[(\d+)\]$/.exec(p);
  if (m) return `vòng ${Number(m[1]) + 1}, đỉnh ${Number(m[2]) + 1}`;
  m = /^coordinates\[(\d+)\]$/.exec(p);
  if (m) return `phần ${Number(m[1]) + 1}`;
  if (p === 'coordinates') return 'toạ độ';
  if (p === 'geometry') return 'hình học';
  if (p === 'properties.height_m') return 'chiều cao';
  if (p === 'properties.sector') return 'lĩnh vực';
  if (p.startsWith('properties.activities')) return 'hoạt động';
  return pointer;
}

/**
 * STALE_REASONS word the reasons of a stale mark (internal/impact), each
 * part of a reason ("; " between them).
 */
const STALE_REASONS = [
  [/^component (\S+) \((\S+)\) changed to version (\d+)$/, (m) => `đối tượng ${m[1]} (${m[2]}) đã thay đổi, phiên bản ${m[3]}`],
  [/^component (\S+) \((\S+)\) created, version (\d+)$/, (m) => `đối tượng ${m[1]} (${m[2]}) được thêm, phiên bản ${m[3]}`],
  [/^component (\S+) \((\S+)\) deleted at version (\d+)$/, (m) => `đối tượng ${m[1]} (${m[2]}) bị xoá ở phiên bản ${m[3]}`],
  [/^rule set (\S+) replaced (\S+)$/, (m) => `bộ quy tắc ${m[1]} thay cho ${m[2]}`],
  [/^the consultation areas changed$/, () => 'vùng tham vấn quốc phòng đã thay đổi'],
  [/^the data changed$/, () => 'dữ liệu đã thay đổi'],
  [/^and (\d+) more changes$/, (m) => `và ${m[1]} thay đổi khác`],
];

/** staleReason words a stale mark's reason in the language (English as the server wrote it). */
export function staleReason(text, lang) {
  if (lang !== 'vi') return String(text || '');
  return String(text || '').split('; ').map((part) => {
    for (const [re, fn] of STALE_REASONS) {
      const m = re.exec(part);
      if (m) return fn(m);
    }
    return part;
  }).join('; ');
}

/** serverReason words one reason of a problem in Vietnamese, or null when the page does not know it. */
export function serverReason(text) {
  for (const [re, fn] of REASONS) {
    const m = re.exec(String(text || ''));
    if (m) return fn(m);
  }
  return null;
}

/**
 * band words a finding's band in the language: the server's Vietnamese
 * (band_vi, or band as {vi, en}) when given, else the English by pattern.
 */
export function band(f, lang) {
  const given = pick(f.band, f.band_vi, lang);
  if (given !== null) return given;
  const en = typeof f.band === 'string' ? f.band : '';
  if (lang !== 'vi' || !en) return en;
  for (const [re, fn] of BANDS) {
    const m = re.exec(en);
    if (m) {
      const vi = fn(m);
      if (vi) return vi;
    }
  }
  return en;
}

/** basis words a finding's legal basis in the language (see band). */
export function basis(f, lang) {
  const given = pick(f.basis, f.basis_vi, lang);
  if (given !== null) return given;
  const en = typeof f.basis === 'string' ? f.basis : '';
  if (lang !== 'vi' || !en) return en;
  return basisVI(en) ?? en;
}

/**
 * pick returns the server's own text in lang: from a {vi, en} object, or
 * from the _vi field in Vietnamese; null when the server gave none.
 */
function pick(value, vi, lang) {
  if (value && typeof value === 'object') return value[lang] || value.vi || value.en || '';
  if (lang === 'vi' && typeof vi === 'string' && vi) return vi;
  return null;
}

/**
 * ENGLISH_SAMPLES are English words of the server that, seen in the
 * Vietnamese page, mean a text went untranslated (the language test
 * looks for them besides the page's own English catalogue).
 */
export const ENGLISH_SAMPLES = [
  'overlapping the component', 'of the component', 'within the', 'the border belt',
  'Law ', 'Decree ', 'art. ', 'Circular ', 'needs at least', 'is not closed', 'intersects itself',
  'is outside longitude', 'internal error', 'not valid', 'Not Found', 'Bad Request', 'Unprocessable Entity',
  'Forbidden', 'Too Many Requests', 'Service Unavailable',
];
