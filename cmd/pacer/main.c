/* Placeholder entry point until the command table lands. */
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "pacer: not built yet\n");
	return 64;
}
