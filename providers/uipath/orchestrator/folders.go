package orchestrator

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/rpaflow/rpaflow/providers/apierror"
)

// Folder header names, spelled as UiPath documents them.
const (
	HeaderFolderID          = "X-UIPATH-OrganizationUnitId"
	HeaderFolderKey         = "X-UIPATH-FolderKey"
	HeaderFolderPath        = "X-UIPATH-FolderPath"
	HeaderFolderPathEncoded = "X-UIPATH-FolderPath-Encoded"
)

// maxHint bounds the names listed in a not-found message.
const maxHint = 20

// Folder is an Orchestrator folder (organization unit).
type Folder struct {
	ID                 int64
	Key                string
	FullyQualifiedName string
	DisplayName        string
}

type folderDTO struct {
	ID                 int64  `json:"Id"`
	Key                string `json:"Key"`
	FullyQualifiedName string `json:"FullyQualifiedName"`
	DisplayName        string `json:"DisplayName"`
}

// FolderPathHeader returns the header that names a folder by path: plain
// X-UIPATH-FolderPath for ASCII paths, otherwise X-UIPATH-FolderPath-Encoded
// with the Base64 of the path's UTF-16LE bytes (headers cannot carry the
// raw characters).
func FolderPathHeader(path string) (name, value string) {
	ascii := true
	for i := 0; i < len(path); i++ {
		if path[i] < 0x20 || path[i] > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		return HeaderFolderPath, path
	}
	units := utf16.Encode([]rune(path))
	b := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(b[2*i:], u)
	}
	return HeaderFolderPathEncoded, base64.StdEncoding.EncodeToString(b)
}

// folderHeader adds the folder header for f: its ID when known, else its
// path, else its key.
func folderHeader(h http.Header, f Folder) error {
	switch {
	case f.ID != 0:
		h[HeaderFolderID] = []string{strconv.FormatInt(f.ID, 10)}
	case f.FullyQualifiedName != "":
		name, value := FolderPathHeader(f.FullyQualifiedName)
		h[name] = []string{value}
	case f.Key != "":
		h[HeaderFolderKey] = []string{f.Key}
	default:
		return apierror.Invalid("folder", "has no ID, path or key; resolve it with Folder first")
	}
	return nil
}

func folderName(f Folder) string {
	switch {
	case f.FullyQualifiedName != "":
		return f.FullyQualifiedName
	case f.DisplayName != "":
		return f.DisplayName
	case f.Key != "":
		return f.Key
	}
	return strconv.FormatInt(f.ID, 10)
}

// Folder resolves a fully qualified folder path ("Shared", "Finance/Invoices").
// The answer is cached for the life of the Client.
func (c *Client) Folder(ctx context.Context, token, path string) (Folder, error) {
	path = strings.Trim(strings.TrimSpace(path), "/")
	if path == "" {
		return Folder{}, apierror.Invalid("folder", "is empty; give the folder's full path, e.g. Shared or Finance/Invoices")
	}
	c.mu.Lock()
	f, ok := c.folders[path]
	c.mu.Unlock()
	if ok {
		return f, nil
	}
	h, err := bearer(token)
	if err != nil {
		return Folder{}, err
	}
	var page struct{ Value []folderDTO }
	u := c.orchURL + "/odata/Folders?" + query("$filter", "FullyQualifiedName eq "+odataLiteral(path))
	if _, err := c.caller.JSON(ctx, "folders", http.MethodGet, u, h, nil, &page); err != nil {
		return Folder{}, err
	}
	var found *folderDTO
	for i := range page.Value {
		if strings.EqualFold(page.Value[i].FullyQualifiedName, path) {
			found = &page.Value[i]
			break
		}
	}
	if found == nil {
		msg := fmt.Sprintf("folder '%s' not found", path)
		if names, ok := c.folderNames(ctx, h); ok {
			msg += "; known folders: " + hint(names)
		}
		return Folder{}, &apierror.Error{Platform: Platform, Op: "folders", Status: http.StatusNotFound, Code: "1100", Message: msg}
	}
	f = Folder{ID: found.ID, Key: found.Key, FullyQualifiedName: found.FullyQualifiedName, DisplayName: found.DisplayName}
	c.mu.Lock()
	c.folders[path] = f
	c.mu.Unlock()
	return f, nil
}

// folderNames lists up to maxHint folder paths for a not-found hint.
func (c *Client) folderNames(ctx context.Context, h http.Header) ([]string, bool) {
	var page struct{ Value []folderDTO }
	u := c.orchURL + "/odata/Folders?" + query("$top", strconv.Itoa(maxHint))
	if _, err := c.caller.JSON(ctx, "folders", http.MethodGet, u, h, nil, &page); err != nil {
		return nil, false
	}
	names := make([]string, 0, len(page.Value))
	for _, f := range page.Value {
		names = append(names, f.FullyQualifiedName)
	}
	return names, true
}

func hint(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	sort.Strings(names)
	if len(names) > maxHint {
		names = names[:maxHint]
	}
	return strings.Join(names, ", ")
}
