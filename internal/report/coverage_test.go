package report

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/zoneplan/zoneplan/internal/check"
)

// A check outside the declared coverage: the report gives the verdict
// incomplete in the report's language, its note, and for each layer whose
// data is not complete there the layer and the contact line, and nothing
// of any component, in the PDF and the HTML alike.
func TestIncompleteReport(t *testing.T) {
	var res check.Result
	if err := json.Unmarshal([]byte(`{"verdict":"incomplete","ruleset_version":"2025.11-1","data_view":"v","footprint":{"area_m2":4582046.4,"length_m":8561.9},
		"findings":[
		 {"verdict":"incomplete","rule":"data-coverage","zone":"data_coverage","basis":"Decree 164/2018/ND-CP","basis_vi":"Nghị định số 164/2018/NĐ-CP",
		  "message":"The defence data of this layer is not confirmed complete where the project lies.","message_vi":"Dữ liệu quốc phòng của lớp này chưa được xác nhận đầy đủ tại vị trí dự án.",
		  "component":{"layer":"combat_bases"},"distance_m":null,"overlap_area_m2":null,"overlap":null,
		  "band":"outside the declared coverage of Combat bases","band_vi":"ngoài phạm vi dữ liệu đầy đủ của lớp Căn cứ chiến đấu",
		  "contact":{"vi":"Liên hệ Bộ Chỉ huy quân sự tỉnh để được hướng dẫn.","en":"Consult the provincial military command."}}]}`), &res); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []Lang{VI, EN} {
		d := sample(t, lang)
		d.Result = res
		d.Latest.Verdict = "incomplete"
		var pdf, html bytes.Buffer
		if err := RenderPDF(context.Background(), &pdf, d); err != nil {
			t.Fatal(err)
		}
		if err := Render(context.Background(), &html, d); err != nil {
			t.Fatal(err)
		}
		flat := pdfRaw(t, pdf.Bytes())
		want := map[Lang][]string{
			VI: {"THIẾU DỮ LIỆU", "chưa thể kết luận không vướng", "Chưa có dữ liệu đầy đủ của lớp", "Liên hệ Bộ Chỉ huy quân sự tỉnh để được hướng dẫn."},
			EN: {"INCOMPLETE DATA", "it cannot be found clear", "No complete data of the layer", "Consult the provincial military command."},
		}[lang]
		for _, s := range want {
			if !strings.Contains(flat, s) {
				t.Errorf("%s: the PDF lacks %q", lang, s)
			}
			if !strings.Contains(html.String(), s) {
				t.Errorf("%s: the HTML lacks %q", lang, s)
			}
		}
	}
}
