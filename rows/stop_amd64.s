//go:build !purego

#include "textflag.h"

// func indexStopAVX2(b []byte) int
// The index of the first '"' (0x22) or ']' (0x5d) in b, -1 if none; b is
// at least 64 bytes long. Blocks of 64 bytes from the start; the bytes
// after the last whole block are looked at as the last 64 bytes of b
// (which overlap bytes already seen to hold neither), so nothing past the
// end of b is read.
TEXT ·indexStopAVX2(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), BX
	MOVQ SI, DI
	LEAQ -64(SI)(BX*1), R11 // the last 64 bytes start here
	LEAQ (SI)(BX*1), R12    // the end
	MOVL $0x22, AX
	MOVD AX, X0
	VPBROADCASTB X0, Y0
	MOVL $0x5d, AX
	MOVD AX, X1
	VPBROADCASTB X1, Y1

loop:
	CMPQ DI, R11
	JA   tail
	VMOVDQU (DI), Y2
	VMOVDQU 32(DI), Y3
	VPCMPEQB Y0, Y2, Y4
	VPCMPEQB Y1, Y2, Y5
	VPCMPEQB Y0, Y3, Y6
	VPCMPEQB Y1, Y3, Y7
	VPOR Y5, Y4, Y4
	VPOR Y7, Y6, Y6
	VPOR Y6, Y4, Y8
	VPTEST Y8, Y8
	JNZ  found
	ADDQ $64, DI
	JMP  loop

tail:
	CMPQ DI, R12
	JEQ  none
	MOVQ R11, DI
	VMOVDQU (DI), Y2
	VMOVDQU 32(DI), Y3
	VPCMPEQB Y0, Y2, Y4
	VPCMPEQB Y1, Y2, Y5
	VPCMPEQB Y0, Y3, Y6
	VPCMPEQB Y1, Y3, Y7
	VPOR Y5, Y4, Y4
	VPOR Y7, Y6, Y6
	VPOR Y6, Y4, Y8
	VPTEST Y8, Y8
	JNZ  found

none:
	VZEROUPPER
	MOVQ $-1, ret+24(FP)
	RET

found:
	SUBQ SI, DI
	VPMOVMSKB Y4, DX
	BSFL DX, DX
	JNZ  low
	VPMOVMSKB Y6, DX
	BSFL DX, DX
	ADDQ $32, DX

low:
	ADDQ DI, DX
	VZEROUPPER
	MOVQ DX, ret+24(FP)
	RET
