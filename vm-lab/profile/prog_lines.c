// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* prog_lines: where each source line of a BPF program sits in its JIT image. Loads OBJ (its
 * pinned-by-name maps under PIN_ROOT, a directory of the caller's, never the bpffs root) and prints
 * for program PROG one line per BTF line-info record: function, offset of its first instruction
 * from the function's start (as perf prints a sample, "xdp_rx+0x165"), file:line, source text.
 * bpftool prints this only when built with libbfd, Debian's is not.
 *   prog_lines OBJ PROG PIN_ROOT */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
	if (argc != 4) { fprintf(stderr, "usage: %s OBJ PROG PIN_ROOT\n", argv[0]); return 2; }
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = argv[3]);
	struct bpf_object *obj = bpf_object__open_file(argv[1], &opts);
	if (!obj || bpf_object__load(obj)) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, argv[2]);
	if (!prog) { fprintf(stderr, "no program %s in %s\n", argv[2], argv[1]); return 1; }
	int fd = bpf_program__fd(prog);
	struct bpf_prog_info info = {}; __u32 len = sizeof(info);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) { perror("info"); return 1; }
	__u32 nl = info.nr_line_info, njl = info.nr_jited_line_info, nk = info.nr_jited_ksyms, nf = info.nr_func_info;
	struct bpf_line_info *li = calloc(nl, sizeof(*li));
	__u64 *jl = calloc(njl, 8), *ks = calloc(nk, 8);
	struct bpf_func_info *fi = calloc(nf, sizeof(*fi));
	__u32 btf_id = info.btf_id;
	memset(&info, 0, sizeof(info));
	info.nr_line_info = nl; info.line_info_rec_size = sizeof(*li); info.line_info = (__u64)(long)li;
	info.nr_jited_line_info = njl; info.jited_line_info_rec_size = 8; info.jited_line_info = (__u64)(long)jl;
	info.nr_jited_ksyms = nk; info.jited_ksyms = (__u64)(long)ks;
	info.nr_func_info = nf; info.func_info_rec_size = sizeof(*fi); info.func_info = (__u64)(long)fi;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) { perror("info2"); return 1; }
	struct btf *btf = btf__load_from_kernel_by_id(btf_id);
	for (__u32 i = 0; i < njl && i < nl; i++) {
		int f = -1;
		for (__u32 k = 0; k < nk; k++) if (ks[k] <= jl[i] && (f < 0 || ks[k] > ks[f])) f = k;
		const char *fname = "?";
		if (f >= 0 && f < (int)nf) { const struct btf_type *t = btf__type_by_id(btf, fi[f].type_id); fname = btf__name_by_offset(btf, t->name_off); }
		const char *file = btf__name_by_offset(btf, li[i].file_name_off);
		const char *src = btf__name_by_offset(btf, li[i].line_off);
		const char *base = strrchr(file, '/');
		printf("%s 0x%llx %s:%u %s\n", fname, (unsigned long long)(jl[i] - ks[f]), base ? base + 1 : file, BPF_LINE_INFO_LINE_NUM(li[i].line_col), src ? src : "");
	}
	return 0;
}
