package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strings"

	"github.com/ipcord/ipcord/discord"
)

// File is a file to upload with a message.
type File struct {
	Name        string // file name shown in Discord
	ContentType string // defaults to application/octet-stream
	Description string // alt text
	Data        []byte
}

// WithFiles returns a copy of p whose Attachments list p's own attachments
// (kept on an edit) followed by one entry per file, with ID n for the part
// files[n] — the shape Discord expects in payload_json.
func WithFiles(p discord.MessageParams, files []File) discord.MessageParams {
	if len(files) == 0 {
		return p
	}
	atts := make([]discord.Attachment, 0, len(p.Attachments)+len(files))
	atts = append(atts, p.Attachments...)
	for i, f := range files {
		atts = append(atts, discord.Attachment{ID: discord.Snowflake(i), Filename: f.Name, Description: f.Description})
	}
	p.Attachments = atts
	return p
}

// EncodeMultipart encodes payload as part payload_json and each file as
// part files[n], returning the Content-Type (with its boundary) and the
// body. The payload's attachments must already name the files (WithFiles).
func EncodeMultipart(payload any, files []File) (contentType string, body []byte, err error) {
	js, err := json.Marshal(payload)
	if err != nil {
		return "", nil, fmt.Errorf("rest: encode payload_json: %w", err)
	}
	size := len(js) + 256
	for _, f := range files {
		size += len(f.Data) + 256
	}
	var buf bytes.Buffer
	buf.Grow(size)
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="payload_json"`)
	h.Set("Content-Type", "application/json")
	pw, err := w.CreatePart(h)
	if err != nil {
		return "", nil, err
	}
	pw.Write(js)
	for i, f := range files {
		ct := f.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files[%d]"; filename="%s"`, i, escapeQuotes(f.Name)))
		h.Set("Content-Type", ct)
		fw, err := w.CreatePart(h)
		if err != nil {
			return "", nil, err
		}
		fw.Write(f.Data)
	}
	if err := w.Close(); err != nil {
		return "", nil, err
	}
	return w.FormDataContentType(), buf.Bytes(), nil
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "")

func escapeQuotes(s string) string { return quoteEscaper.Replace(s) }

// FilesSize is the total size of the files' data.
func FilesSize(files []File) int {
	n := 0
	for _, f := range files {
		n += len(f.Data)
	}
	return n
}
