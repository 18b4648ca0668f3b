/* ProcessPrng for Wine 8 (Debian bookworm), which lacks bcryptprimitives.dll: Rust's std
 * (1.78+) imports it, so no Windows test binary loads under that Wine without this shim. Not
 * used by CI; for running the Windows tests by hand (docs/reliability.md, "Windows"):
 *   x86_64-w64-mingw32-gcc -O2 -shared -o bcryptprimitives.dll .ci/wine-bcryptprimitives.c -ladvapi32
 *   cp bcryptprimitives.dll "$WINEPREFIX/drive_c/windows/system32/"
 */
#include <windows.h>
#define SystemFunction036 NTAPI SystemFunction036
#include <ntsecapi.h>
#undef SystemFunction036

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
