import nbformat
def build(cells, stem):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'}, 'language_info': {'codemirror_mode': {'name': 'ipython', 'version': 3}, 'file_extension': '.py', 'mimetype': 'text/x-python', 'name': 'python', 'nbconvert_exporter': 'python', 'pygments_lexer': 'ipython3', 'version': '3.11.7'}}
    out = []
    for i, (kind, src, *tags) in enumerate(cells):
        src = src.strip("\n")
        c = nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
        c.id = f"{stem}-{i:02d}"
        if tags:
            c.metadata["tags"] = list(tags)
        out.append(c)
    nb.cells = out
    return nb
COLAB = '''# In Colab, fetch the course (notebooks, data, package) and work from this notebook's folder.
# Does nothing elsewhere.
import sys
if "google.colab" in sys.modules:
    !git clone -q --depth 1 https://github.com/ai-engineering-course/ai-engineering-course /content/course
    %cd /content/course
    %pip install -q -r requirements.txt
    %cd /content/course/notebooks/04-orchestration'''
