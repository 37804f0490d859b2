//! A small, flat reading of WeCom's callback XML.
//!
//! WeCom's callback documents are shallow (`<xml>` with leaf fields, at most one level of
//! `<Item>` lists), so instead of a serde mapping per event we read every element into a flat
//! list in document order. That gives both halves of the crate what they need from one pass:
//! field look-ups for the typed parsers, and a canonical digest of *everything* in the payload
//! for deduplication, including fields this crate does not know yet.
//!
//! The reader is iterative (no recursion, so no stack overflow on deep nesting), refuses
//! `<!DOCTYPE>` (WeCom never sends one, and it is the door to entity tricks), and reports
//! malformed input as an error rather than guessing.

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use sha1::{Digest, Sha1};

/// Why a document was refused. The message is for logs and operators.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct XmlError(pub(crate) String);

/// One element: its depth (0 for the root), its name and its text.
///
/// Text is the concatenation of the element's own text and CDATA sections. Plain text segments
/// are trimmed (pretty-printing whitespace is not data); CDATA is kept verbatim, because the
/// `Encrypt` value must reach the signature check byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) depth: usize,
    pub(crate) name: String,
    pub(crate) text: String,
}

/// A parsed document: `nodes[0]` is the root, the rest follow in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Document {
    nodes: Vec<Node>,
}

impl Document {
    pub(crate) fn parse(xml: &str) -> Result<Self, XmlError> {
        let mut reader = Reader::from_str(xml);
        reader.config_mut().trim_text(false);
        reader.config_mut().check_end_names = true;

        let mut nodes: Vec<Node> = Vec::new();
        // Indices into `nodes` of the currently open elements.
        let mut open: Vec<usize> = Vec::new();
        let mut root_closed = false;

        loop {
            let event = reader.read_event().map_err(|e| {
                XmlError(format!(
                    "malformed XML near byte {}: {e}",
                    reader.error_position()
                ))
            })?;
            match event {
                Event::Start(start) | Event::Empty(start) if root_closed => {
                    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                    return Err(XmlError(format!(
                        "element <{name}> after the root element was closed"
                    )));
                }
                Event::Start(start) => {
                    let name = element_name(start.name().as_ref())?;
                    nodes.push(Node {
                        depth: open.len(),
                        name,
                        text: String::new(),
                    });
                    open.push(nodes.len() - 1);
                }
                Event::Empty(start) => {
                    let name = element_name(start.name().as_ref())?;
                    nodes.push(Node {
                        depth: open.len(),
                        name,
                        text: String::new(),
                    });
                    if open.is_empty() {
                        root_closed = true;
                    }
                }
                Event::End(_) => {
                    // quick-xml has already checked that the name matches the open element.
                    open.pop();
                    if open.is_empty() {
                        root_closed = true;
                    }
                }
                Event::Text(text) => {
                    let text = text
                        .unescape()
                        .map_err(|e| XmlError(format!("bad text or entity: {e}")))?;
                    let trimmed = text.trim();
                    if trimmed.is_empty() {
                        continue;
                    }
                    append_text(&mut nodes, &open, trimmed)?;
                }
                Event::CData(cdata) => {
                    let text = cdata
                        .decode()
                        .map_err(|e| XmlError(format!("bad CDATA section: {e}")))?;
                    append_text(&mut nodes, &open, &text)?;
                }
                Event::DocType(_) => {
                    return Err(XmlError("<!DOCTYPE> is not allowed".to_owned()));
                }
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
                Event::Eof => break,
            }
        }

        if let Some(&innermost) = open.last() {
            let name = nodes.get(innermost).map_or("?", |n| n.name.as_str());
            return Err(XmlError(format!(
                "unexpected end of input: <{name}> is not closed"
            )));
        }
        if nodes.is_empty() {
            return Err(XmlError("no root element".to_owned()));
        }
        Ok(Self { nodes })
    }

    /// The text of the first child of the root named `name`, if present.
    ///
    /// A repeated field is read from its first occurrence; the dedup digest still covers every
    /// occurrence.
    pub(crate) fn field(&self, name: &str) -> Option<&str> {
        self.nodes
            .iter()
            .find(|n| n.depth == 1 && n.name == name)
            .map(|n| n.text.as_str())
    }

    /// The texts of the elements named `child` directly under the first root child named
    /// `name` (for `<MemChangeList><Item>…</Item></MemChangeList>`).
    pub(crate) fn children(&self, name: &str, child: &str) -> Vec<&str> {
        let Some(start) = self
            .nodes
            .iter()
            .position(|n| n.depth == 1 && n.name == name)
        else {
            return Vec::new();
        };
        self.nodes
            .iter()
            .skip(start + 1)
            .take_while(|n| n.depth > 1)
            .filter(|n| n.depth == 2 && n.name == child)
            .map(|n| n.text.as_str())
            .collect()
    }

    /// A SHA-1 over a canonical form of the whole document.
    ///
    /// Each top-level field (with everything nested in it) is serialised with length
    /// prefixes, the serialised fields are sorted, and the root is hashed with them. So the
    /// digest does not change with whitespace, CDATA-versus-text, entity spelling or field
    /// order, but any difference in any value, known field or not, gives a different digest.
    pub(crate) fn canonical_digest(&self) -> [u8; 20] {
        let mut fields: Vec<Vec<u8>> = Vec::new();
        let mut root: Option<&Node> = None;
        for node in &self.nodes {
            match node.depth {
                0 => root = Some(node),
                1 => {
                    let mut buf = Vec::new();
                    write_node(&mut buf, node);
                    fields.push(buf);
                }
                _ => {
                    if let Some(current) = fields.last_mut() {
                        write_node(current, node);
                    }
                }
            }
        }
        fields.sort_unstable();

        let mut hasher = Sha1::new();
        hasher.update(b"yutang-wecom-dedup-v1\0");
        if let Some(root) = root {
            let mut buf = Vec::new();
            write_node(&mut buf, root);
            hasher.update(&buf);
        }
        hasher.update((fields.len() as u64).to_be_bytes());
        for field in &fields {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field);
        }
        hasher.finalize().into()
    }
}

fn element_name(raw: &[u8]) -> Result<String, XmlError> {
    std::str::from_utf8(raw)
        .map(str::to_owned)
        .map_err(|_| XmlError("element name is not UTF-8".to_owned()))
}

fn append_text(nodes: &mut [Node], open: &[usize], text: &str) -> Result<(), XmlError> {
    match open.last().and_then(|&i| nodes.get_mut(i)) {
        Some(node) => {
            node.text.push_str(text);
            Ok(())
        }
        None => Err(XmlError("text outside the root element".to_owned())),
    }
}

fn write_node(buf: &mut Vec<u8>, node: &Node) {
    buf.extend_from_slice(&(node.depth as u64).to_be_bytes());
    buf.extend_from_slice(&(node.name.len() as u64).to_be_bytes());
    buf.extend_from_slice(node.name.as_bytes());
    buf.extend_from_slice(&(node.text.len() as u64).to_be_bytes());
    buf.extend_from_slice(node.text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_text_and_cdata() {
        let doc = Document::parse(
            "<xml>\n  <A><![CDATA[ x ]]></A>\n  <B> 12 </B>\n  <C/>\n  <D>a &amp; b</D>\n</xml>",
        )
        .unwrap();
        assert_eq!(doc.field("A"), Some(" x "));
        assert_eq!(doc.field("B"), Some("12"));
        assert_eq!(doc.field("C"), Some(""));
        assert_eq!(doc.field("D"), Some("a & b"));
        assert_eq!(doc.field("E"), None);
    }

    #[test]
    fn reads_item_lists() {
        let doc = Document::parse(
            "<xml><L><Item>a</Item><Item><![CDATA[b]]></Item><X>no</X></L><Item>top</Item></xml>",
        )
        .unwrap();
        assert_eq!(doc.children("L", "Item"), vec!["a", "b"]);
        assert!(doc.children("Missing", "Item").is_empty());
    }

    #[test]
    fn refuses_malformed_documents() {
        for bad in [
            "",
            "   ",
            "plain text",
            "<xml>",
            "<xml><A>1</xml>",
            "<xml><A>1</B></xml>",
            "<xml></xml><xml></xml>",
            "<xml/><extra/>",
            "<!DOCTYPE x [<!ENTITY e \"boom\">]><xml>&e;</xml>",
            "<xml>&unknown;</xml>",
            "<xml><A",
            "</xml>",
        ] {
            assert!(Document::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn digest_ignores_layout_but_not_values() {
        let a = Document::parse("<xml><A>1</A><B><![CDATA[2]]></B></xml>").unwrap();
        let b = Document::parse("<xml>\n <B>2</B>\n <A><![CDATA[1]]></A>\n</xml>").unwrap();
        let c = Document::parse("<xml><A>1</A><B>3</B></xml>").unwrap();
        let d = Document::parse("<xml><A>1</A><B>2</B><New>x</New></xml>").unwrap();
        assert_eq!(a.canonical_digest(), b.canonical_digest());
        assert_ne!(a.canonical_digest(), c.canonical_digest());
        assert_ne!(a.canonical_digest(), d.canonical_digest());
    }

    #[test]
    fn digest_is_unambiguous_about_boundaries() {
        // Moving characters between a name and a value, or between two fields, must change it.
        let a = Document::parse("<xml><AB>c</AB></xml>").unwrap();
        let b = Document::parse("<xml><A>Bc</A></xml>").unwrap();
        let c = Document::parse("<xml><L><Item>ab</Item></L></xml>").unwrap();
        let d = Document::parse("<xml><L><Item>a</Item><Item>b</Item></L></xml>").unwrap();
        assert_ne!(a.canonical_digest(), b.canonical_digest());
        assert_ne!(c.canonical_digest(), d.canonical_digest());
    }
}
