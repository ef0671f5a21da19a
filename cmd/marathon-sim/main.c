/* Placeholder entry point until the simulator lands. */
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "marathon-sim: not built yet\n");
	return 1;
}
