package orchsim

import (
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf16"
)

type folderState struct {
	id        int64
	key       string
	path      string
	display   string
	parent    *folderState
	releases  []*releaseState
	queues    map[string]*queueState // by lower-case name
	robots    int                    // 0: no limit
	robotJobs []*jobState            // with robots: the jobs in the order created
	// pendingReason is the ErrorCode of a job waiting for a robot.
	pendingReason string
}

type folderDTO struct {
	Key                string  `json:"Key"`
	DisplayName        string  `json:"DisplayName"`
	FullyQualifiedName string  `json:"FullyQualifiedName"`
	Description        *string `json:"Description"`
	FolderType         string  `json:"FolderType"`
	IsPersonal         bool    `json:"IsPersonal"`
	ProvisionType      string  `json:"ProvisionType"`
	PermissionModel    string  `json:"PermissionModel"`
	ParentID           *int64  `json:"ParentId"`
	ParentKey          *string `json:"ParentKey"`
	FeedType           string  `json:"FeedType"`
	ID                 int64   `json:"Id"`
}

func (f *folderState) dto() folderDTO {
	d := folderDTO{Key: f.key, DisplayName: f.display, FullyQualifiedName: f.path, FolderType: "Standard",
		ProvisionType: "Automatic", PermissionModel: "FineGrained", FeedType: "Processes", ID: f.id}
	if f.parent != nil {
		d.ParentID, d.ParentKey = &f.parent.id, &f.parent.key
	}
	return d
}

var folderSchema = map[string]kind{"FullyQualifiedName": kindString, "DisplayName": kindString, "Id": kindInt, "Key": kindString}

// listFolders is GET /odata/Folders (tenant-wide, no folder header).
func (s *Server) listFolders(req *request) {
	q, err := parseQuery(req.r.URL.Query(), folderSchema)
	if err != nil {
		writeError(req.w, http.StatusBadRequest, 1000, "Invalid OData query options: "+err.Error())
		return
	}
	rows := make([]row, len(s.folders))
	for i, f := range s.folders {
		rows[i] = row{"FullyQualifiedName": f.path, "DisplayName": f.display, "Id": f.id, "Key": f.key}
	}
	idx := q.apply(rows)
	out := collection{Context: req.base + "/odata/$metadata#Folders", Count: len(idx), Value: []any{}}
	for _, i := range idx {
		out.Value = append(out.Value, s.folders[i].dto())
	}
	writeJSON(req.w, http.StatusOK, out)
}

// folder resolves the folder header of a folder-scoped call, in the
// documented order: id, key, path, encoded path. On failure it has answered.
func (s *Server) folder(req *request) (*folderState, bool) {
	h := req.r.Header
	var match func(*folderState) bool
	switch {
	case h.Get("X-UIPATH-OrganizationUnitId") != "":
		id, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-UIPATH-OrganizationUnitId")), 10, 64)
		if err != nil {
			break
		}
		match = func(f *folderState) bool { return f.id == id }
	case h.Get("X-UIPATH-FolderKey") != "":
		key := strings.TrimSpace(h.Get("X-UIPATH-FolderKey"))
		match = func(f *folderState) bool { return strings.EqualFold(f.key, key) }
	case h.Get("X-UIPATH-FolderPath") != "":
		path := strings.Trim(h.Get("X-UIPATH-FolderPath"), "/ ")
		match = func(f *folderState) bool { return strings.EqualFold(f.path, path) }
	case h.Get("X-UIPATH-FolderPath-Encoded") != "":
		path, ok := decodeFolderPath(h.Get("X-UIPATH-FolderPath-Encoded"))
		if !ok {
			break
		}
		// No ambient folder outside a job, so a leading "/" is the root.
		path = strings.Trim(path, "/")
		match = func(f *folderState) bool { return strings.EqualFold(f.path, path) }
	default:
		writeError(req.w, http.StatusBadRequest, 1101, "A folder is required for this action.")
		return nil, false
	}
	if match != nil {
		for _, f := range s.folders {
			if match(f) {
				return f, true
			}
		}
	}
	writeError(req.w, http.StatusBadRequest, 1100, "Folder does not exist or the user does not have access to the folder.")
	return nil, false
}

// decodeFolderPath reads Base64 of UTF-16LE.
func decodeFolderPath(v string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil || len(b)%2 != 0 {
		return "", false
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(units)), true
}
